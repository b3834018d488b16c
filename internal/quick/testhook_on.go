//go:build wgtesthooks

package quick

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// envStepHook, in test builds only (go build -tags wgtesthooks), names an
// action and a step count: "kill:N" sends SIGKILL to wg-quick itself,
// "stop:N" sends it SIGSTOP (the test then does something and sends
// SIGCONT), once N steps of its plans have succeeded (N = 0: just before
// the first step). Steps are counted over the whole process, a recovery's
// steps included.
//
// Why a hook in the runner: a PreUp or PostUp script can stop wg-quick only
// where hooks run, and a signal sent from outside lands at a moment that
// depends on timing; the kill test needs every point between two steps,
// exactly. Normal builds do not contain this file, so no environment
// variable can make an installed wg-quick kill itself.
const envStepHook = "WG_QUICK_TEST_STEP_HOOK"

// The hook's state is the test build's alone: the count of steps done in
// this process and whether the action has fired.
var hook struct {
	once   sync.Once
	action string
	at     int
	done   int
	fired  bool
}

func stepHook(done bool) {
	hook.once.Do(func() {
		action, n, ok := strings.Cut(os.Getenv(envStepHook), ":")
		at, err := strconv.Atoi(n)
		if !ok || err != nil || (action != "kill" && action != "stop") {
			hook.at = -1
			return
		}
		hook.action, hook.at = action, at
	})
	if done {
		hook.done++
	}
	if hook.fired || hook.done != hook.at {
		return
	}
	hook.fired = true
	sig := syscall.SIGKILL
	if hook.action == "stop" {
		sig = syscall.SIGSTOP
	}
	// The signal goes to this thread (tgkill), which takes it on its way
	// out of the system call: kill(getpid) could be taken by another
	// thread, and the group stop reach this one only after it has run on
	// (past the end of up, say).
	runtime.LockOSThread()
	syscall.Tgkill(os.Getpid(), syscall.Gettid(), sig)
	runtime.UnlockOSThread()
}
