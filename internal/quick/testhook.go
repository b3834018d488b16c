//go:build !wgtesthooks

package quick

// stepHook is called by the plan runner just before a step runs (done
// false) and just after a step succeeded (done true). It does nothing in a
// normal build; a build with the wgtesthooks tag (testhook_on.go) lets
// system tests kill or stop wg-quick at an exact point of its plan.
func stepHook(done bool) {}
