package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	cliOnce sync.Once
	cliPath string
	cliErr  error
)

// cli builds the flatpak-frontend command once per test binary.
func cli(t *testing.T) string {
	t.Helper()
	cliOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ffe-cli-")
		if err != nil {
			cliErr = err
			return
		}
		cliPath = filepath.Join(dir, "flatpak-frontend")
		out, err := exec.Command("go", "build", "-o", cliPath, "../cmd/flatpak-frontend").CombinedOutput()
		if err != nil {
			cliErr = err
			cliPath = string(out)
		}
	})
	if cliErr != nil {
		t.Fatalf("go build ../cmd/flatpak-frontend: %v\n%s", cliErr, cliPath)
	}
	return cliPath
}
