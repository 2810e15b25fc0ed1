package check

import "reflect"

var (
	reflectOp    = reflect.TypeFor[op]()
	reflectEvent = reflect.TypeFor[event]()
)
