package run

import (
	"strings"
	"testing"
)

// tableScenario is a one-task blockfs scenario on 3.x with body as the
// task's operations (indented by four spaces).
func tableScenario(fs, body string) string {
	head := "wbsim-scenario v1\nname t\nkernel 3.x\nfs blockfs\n"
	if fs == "afs" {
		head = "wbsim-scenario v1\nname t\nkernel afs-2.6.3x\nfs afs\n    key alice\n"
	}
	return head + "task w\n" + body + "explore\n    strategy rr\n"
}

// A device op takes effect at its point in the task: writeback before it
// succeeds, writeback after "device error" fails, and after "device ok" it
// succeeds again (3.x clears PG_error as fsync reports it).
func TestDeviceErrorThenOK(t *testing.T) {
	v := checkText(t, tableScenario("blockfs", `    open f /data
    write f 0+4KiB as A
    fsync f expect ok
    device error
    write f 0+4KiB as B
    fsync f expect EIO
    device ok
    write f 0+4KiB as C
    fsync f expect ok
    close f
`)+"expect ok\n")
	if !v.Pass {
		t.Fatal(v.Msg)
	}
}

// Under dm-error an empty flush never reaches the device, so fsync's
// cache flush succeeds; "device offline" fails it.
func TestDeviceFlushUnderErrorTable(t *testing.T) {
	for _, c := range []struct{ table, want string }{{"error", "ok"}, {"offline", "EIO"}, {"ok", "ok"}} {
		v := checkText(t, tableScenario("blockfs", `    open f /data
    write f 0+4KiB as A
    sync
    device `+c.table+`
    fsync f expect `+c.want+`
    close f
`)+"expect ok\n")
		if !v.Pass {
			t.Errorf("device %s: %s", c.table, v.Msg)
		}
	}
}

// drop-writes accepts writes and loses them: fsync returns 0, and
// fsync-durable finds the promised bytes missing.
func TestDeviceDropWritesFsyncLies(t *testing.T) {
	v := checkText(t, tableScenario("blockfs", `    open f /data
    device drop-writes
    write f 0+4KiB as A
    fsync f expect ok
    close f
`)+"expect failure fsync-durable\n")
	if !v.Pass || v.Failure == nil || !strings.Contains(v.Failure.Msg, "stable storage holds zero") {
		t.Fatalf("want fsync-durable to find the dropped write: %s", v.Msg)
	}
}

// On afs the server's table fails stores from its point on, and "server
// ok" ends it.
func TestServerFailStoreThenOK(t *testing.T) {
	v := checkText(t, tableScenario("afs", `    open f /vol/a as alice
    write f 0+4KiB as A
    fsync f expect ok
    server fail store EIO
    write f 0+4KiB as B
    fsync f expect EIO
    server ok
    write f 0+4KiB as C
    fsync f expect ok
    close f
`)+"expect ok\n")
	if !v.Pass {
		t.Fatal(v.Msg)
	}
}
