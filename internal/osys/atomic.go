package osys

import (
	"os"
	"path/filepath"
)

// WriteError is a failed WriteAtomic. Moving tells a failed rename from a
// failed write.
type WriteError struct {
	Moving bool
	Err    error
}

func (e *WriteError) Error() string { return e.Err.Error() }
func (e *WriteError) Unwrap() error { return e.Err }

// WriteAtomic replaces path with data: a temporary file in the same
// directory, created with mode 0600, written and synced, renamed over path,
// and the directory synced. On failure path is unchanged and the temporary
// file is gone.
func WriteAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return &WriteError{Err: err}
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return &WriteError{Err: err}
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return &WriteError{Err: err}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return &WriteError{Err: err}
	}
	if err := f.Close(); err != nil {
		return &WriteError{Err: err}
	}
	if err := os.Rename(tmp, path); err != nil {
		return &WriteError{Moving: true, Err: err}
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
