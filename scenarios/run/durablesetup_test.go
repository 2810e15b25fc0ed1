package run

import (
	"testing"

	"github.com/wbsim/wbsim/scenarios"
)

// TestDurableSetup: a file's setup contents ("file PATH size N") are on
// the medium before the tasks start, whatever fsync-flush says: a crash
// right away keeps them.
func TestDurableSetup(t *testing.T) {
	for _, flush := range []string{"on", "off"} {
		src := `wbsim-scenario v1
name durable-setup
kernel 3.x
fs blockfs
    fsync-flush ` + flush + `
    file /db size 64KiB
task t
    crash
check crash
explore
    schedules 3
expect ok
`
		s, err := scenarios.Parse("setup.wbs", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if v := Check(s); !v.Pass {
			t.Errorf("fsync-flush %s: %s", flush, v.Msg)
		}
	}
}
