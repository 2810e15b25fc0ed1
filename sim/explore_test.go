package sim

import (
	"context"
	"testing"
)

// TestExploreFailureHasItsHash: Explore runs schedules untraced and
// replays a failing one traced, so a failure it reports must carry the
// hash, log and failure of the same seed run on its own; an untraced run
// has no hash and keeps no events.
func TestExploreFailureHasItsHash(t *testing.T) {
	setup := orderingBug(3)
	res := Explore(context.Background(), setup, ExploreOptions{
		Strategy:  func(seed uint64, _ int64) Strategy { return NewRandom(seed) },
		Schedules: 200, KeepGoing: true,
	})
	if len(res.Failures) == 0 || len(res.Failures) == res.Schedules {
		t.Fatalf("%d of %d schedules failed; the test needs some of each", len(res.Failures), res.Schedules)
	}
	for _, got := range res.Failures {
		w := New(Config{Seed: got.Seed, Strategy: NewRandom(got.Seed)})
		setup(w)
		want := w.Run()
		if got.Hash == 0 || got.Hash != want.Hash || got.Log.Hash != want.Hash || got.Log.String() != want.Log.String() ||
			got.Failure.Signature() != want.Failure.Signature() || got.Divergence != nil {
			t.Fatalf("seed %d: Explore gave hash %x, log %s, failure %v, divergence %+v; alone the run gives hash %x, log %s, failure %v",
				got.Seed, got.Hash, got.Log, got.Failure, got.Divergence, want.Hash, want.Log, want.Failure)
		}
	}
	w := New(Config{Seed: 1, Untraced: true})
	tiny(w)
	if r := w.Run(); r.Hash != 0 || r.Log.Hash != 0 || r.Events == 0 || len(w.Trace().Events()) != 0 {
		t.Errorf("untraced run: hash %x, log hash %x, %d events, %d kept", r.Hash, r.Log.Hash, r.Events, len(w.Trace().Events()))
	}
}
