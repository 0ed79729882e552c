package secrets

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestLoadOrCreateKeyFileCreatesThenReads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	k1, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(k1) != KeySize {
		t.Fatalf("key length %d", len(k1))
	}
	if bytes.Equal(k1, make([]byte, KeySize)) {
		t.Fatal("key is all zeros")
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := st.Mode().Perm(); perm != 0o600 {
		t.Errorf("mode %#o, want 0600", perm)
	}
	k2, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k1, k2) {
		t.Error("second load returned a different key")
	}
	// No staging files may be left behind.
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory has %d entries, want only the key file", len(entries))
	}
}

func TestLoadOrCreateKeyFileConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	const n = 16
	keys := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { keys[i], errs[i] = LoadOrCreateKeyFile(path) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("goroutine %d: %v", i, errs[i])
		}
		if !bytes.Equal(keys[i], keys[0]) {
			t.Fatalf("goroutine %d got a different key: creation not exclusive", i)
		}
	}
}

func TestLoadOrCreateKeyFileRejects(t *testing.T) {
	tests := []struct {
		name    string
		content []byte
		mode    os.FileMode
		want    error
	}{
		{"group readable", make([]byte, KeySize), 0o640, ErrKeyFilePermissions},
		{"world readable", make([]byte, KeySize), 0o604, ErrKeyFilePermissions},
		{"group writable", make([]byte, KeySize), 0o620, ErrKeyFilePermissions},
		{"short", make([]byte, KeySize-1), 0o600, ErrKeySize},
		{"long", make([]byte, KeySize+1), 0o600, ErrKeySize},
		{"empty", nil, 0o600, ErrKeySize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "master.key")
			if err := os.WriteFile(path, tt.content, 0o600); err != nil {
				t.Fatal(err)
			}
			// Chmod explicitly: WriteFile's mode is filtered by umask.
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			if _, err := LoadOrCreateKeyFile(path); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("directory", func(t *testing.T) {
		if _, err := LoadOrCreateKeyFile(t.TempDir()); err == nil {
			t.Error("directory accepted as key file")
		}
	})
	t.Run("missing parent", func(t *testing.T) {
		_, err := LoadOrCreateKeyFile(filepath.Join(t.TempDir(), "nope", "master.key"))
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("err = %v, want ErrNotExist", err)
		}
	})
}

func TestLoadOrCreateKeyFileUsableKey(t *testing.T) {
	key, err := LoadOrCreateKeyFile(filepath.Join(t.TempDir(), "k"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewKeyring(key); err != nil {
		t.Fatal(err)
	}
}
