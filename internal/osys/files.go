package osys

import (
	"io/fs"
	"os"
	"path/filepath"
)

// Files reads files.
type Files struct{}

func (Files) ReadFile(name string) ([]byte, error)     { return os.ReadFile(name) }
func (Files) Stat(name string) (fs.FileInfo, error)    { return os.Stat(name) }
func (Files) Lstat(name string) (fs.FileInfo, error)   { return os.Lstat(name) }
func (Files) EvalSymlinks(name string) (string, error) { return filepath.EvalSymlinks(name) }
