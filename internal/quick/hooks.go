package quick

import (
	"context"
	"strings"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/osys"
)

// hookScript runs the hook text held in the environment as the reference
// runs its hooks ((eval "$hook") inside a `set -e -o pipefail`, extglob
// script). The text travels in the environment, not on the command line,
// so that a key written in a hook does not show in the process list.
const hookScript = `__wg_quick_hook=$WG_QUICK_HOOK; unset WG_QUICK_HOOK; eval "$__wg_quick_hook"`

// hookSteps are the steps running hooks (key: PreUp, PostUp, PreDown,
// PostDown) for an interface, with every %i replaced by its name.
func hookSteps(sys *Sys, l *Loaded, key string, hooks []string) []Step {
	steps := make([]Step, 0, len(hooks))
	for _, h := range hooks {
		expanded := strings.ReplaceAll(h, "%i", l.Interface)
		steps = append(steps, Step{Op: hookOp{sys: sys, l: l, text: expanded, line: hideSecrets(expanded, l.secrets()), key: key}})
	}
	return steps
}

func runHook(ctx context.Context, sys *Sys, l *Loaded, hook string) error {
	env := append(append([]string(nil), sys.Env...),
		"INTERFACE="+l.Interface, "CONFIG_FILE="+l.Path, "WG_QUICK_HOOK="+hook)
	bash, err := sys.Exec.LookPath("bash", env)
	if err != nil {
		return fail(127, "%s: bash: command not found", sys.Prog)
	}
	code, err := sys.Exec.Run(ctx, osys.Command{
		Path:   bash,
		Args:   []string{"bash", "-O", "extglob", "-e", "-o", "pipefail", "-c", hookScript},
		Env:    env,
		Stdin:  sys.Stdin,
		Stdout: sys.Stdout,
		Stderr: sys.Stderr,
	})
	if err != nil {
		return fail(126, "%s: bash: %v", sys.Prog, err)
	}
	if code != 0 {
		// bash has said what failed; the status is the hook's.
		return &Failure{Code: code}
	}
	return nil
}

// hideSecrets is a hook's trace line with the configuration's own private
// and preshared keys (base64 or hex) shown as "(hidden)": a hook may carry
// one (`wg set %i peer ... preshared-key <(echo KEY)`), and the trace goes
// to logs. The hook itself runs with the keys.
func hideSecrets(line string, keys []conf.Key) string {
	for _, k := range keys {
		if k.IsZero() {
			continue
		}
		line = strings.ReplaceAll(line, k.String(), "(hidden)")
		line = strings.ReplaceAll(line, k.Hex(), "(hidden)")
	}
	return line
}
