package run

import (
	"fmt"

	"github.com/wbsim/wbsim/scenarios"
	"github.com/wbsim/wbsim/sim"
)

// loadTable runs a device or server operation: at a scheduling point, the
// disk (or the AFS server) loads the op's fault table, as xfstests'
// _dmerror_load_error_table does with "dmsetup load" + "dmsetup resume"
// (the resume waits for no I/O here: requests already dispatched keep the
// faults they got, the next ones meet the new table).
func (m *machine) loadTable(t *sim.Task, op *scenarios.Op) {
	var err error
	if op.Kind == scenarios.OpDevice {
		t.Point("dmsetup_resume", sim.Obj{Class: "disk", Name: m.disk.Name()}, 0)
		err = m.disk.Load(op.Table)
	} else {
		t.Point("server_table", sim.Obj{Class: "afs_server"}, 0)
		err = m.srv.Load(op.Table)
	}
	if err != nil {
		panic(fmt.Sprintf("run: %s %s: %v (the validator admits only valid tables)", op.Kind, op.Table, err))
	}
	m.w.Record(sim.KindNote, string(op.Kind), sim.Obj{}, 0, op.Table.String())
}
