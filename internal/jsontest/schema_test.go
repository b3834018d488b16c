package jsontest

import (
	"strings"
	"testing"
)

const goodDoc = `{"schema_version": 1, "time": "2026-11-25T12:22:23Z", "interfaces": [
 {"name": "wg0", "public_key": "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=", "private_key": "(hidden)", "listen_port": 51820, "fwmark": null,
  "peers": [{"public_key": "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=", "preshared_key": null, "endpoint": "[fe80::1%lo]:1",
   "allowed_ips": ["10.0.0.0/8"], "latest_handshake": "2026-11-25T12:21:18Z", "latest_handshake_age_seconds": 65,
   "transfer_rx_bytes": 18446744073709551615, "transfer_tx_bytes": 0, "persistent_keepalive_seconds": 25}]}]}
`

// TestSchemaRejects: the schema accepts the documented example and
// rejects each way of breaking it, so that validating against it means
// something.
func TestSchemaRejects(t *testing.T) {
	if err := Validate("wg-show", []byte(goodDoc)); err != nil {
		t.Fatalf("the good document fails: %v", err)
	}
	bad := map[string][2]string{
		"fwmark 0 for off":       {`"fwmark": null`, `"fwmark": 0`},
		"keepalive off as 0":     {`"persistent_keepalive_seconds": 25`, `"persistent_keepalive_seconds": 0`},
		"(none) for no endpoint": {`"endpoint": "[fe80::1%lo]:1"`, `"endpoint": "(none)"`},
		"a key missing":          {`"preshared_key": null, `, ``},
		"a short key":            {`"HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw="`, `"HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8yk="`},
		"a handshake as seconds": {`"latest_handshake": "2026-11-25T12:21:18Z"`, `"latest_handshake": 1795609278`},
		"a local time":           {`"time": "2026-11-25T12:22:23Z"`, `"time": "2026-11-25T13:22:23+01:00"`},
		"not a date":             {`"time": "2026-11-25T12:22:23Z"`, `"time": "2026-13-45T12:22:23Z"`},
		"counters as text":       {`"transfer_tx_bytes": 0`, `"transfer_tx_bytes": "0"`},
		"another version":        {`"schema_version": 1`, `"schema_version": 2`},
		"allowed ips as text":    {`["10.0.0.0/8"]`, `"10.0.0.0/8"`},
	}
	for name, r := range bad {
		doc := strings.Replace(goodDoc, r[0], r[1], 1)
		if doc == goodDoc {
			t.Fatalf("%s: the replacement did not apply", name)
		}
		if err := Validate("wg-show", []byte(doc)); err == nil {
			t.Errorf("%s: the schema accepts it", name)
		}
	}
}
