package secrets

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrKeyFilePermissions is returned when a key file is readable or writable
// by anyone but its owner: such a key must be considered disclosed.
var ErrKeyFilePermissions = errors.New("secrets: key file is accessible by group or others (want mode 0600)")

// LoadOrCreateKeyFile returns the 32-byte master key stored at path,
// creating it with fresh random bytes and mode 0600 if it does not exist.
//
// Creation is atomic and exclusive: the key is written and synced to a
// private temporary file in the same directory, then hard-linked to path,
// which fails if path already exists (the same guarantee as O_EXCL) and
// never exposes a partially written key to a concurrent reader. When two
// processes race, the loser reads the winner's key.
//
// This is the one function in the package that performs I/O.
func LoadOrCreateKeyFile(path string) ([]byte, error) {
	key, err := readKeyFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	created, err := createKeyFile(path)
	if errors.Is(err, fs.ErrExist) {
		// Lost a creation race: the other process's key is authoritative.
		return readKeyFile(path)
	}
	return created, err
}

func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("secrets: open key file: %w", err)
	}
	defer f.Close()
	// Check the opened file, not the path, so the check and the read see
	// the same inode.
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("secrets: stat key file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("secrets: key file %s is not a regular file", path)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s has mode %#o: %w", path, st.Mode().Perm(), ErrKeyFilePermissions)
	}
	// Read one byte more than needed so a longer file is detected.
	buf := make([]byte, KeySize+1)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("secrets: read key file: %w", err)
	}
	if n != KeySize {
		return nil, fmt.Errorf("secrets: key file %s: %w", path, ErrKeySize)
	}
	return buf[:KeySize], nil
}

func createKeyFile(path string) (key []byte, err error) {
	key = make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("secrets: generate key: %w", err)
	}
	dir := filepath.Dir(path)
	// os.CreateTemp opens with O_EXCL and mode 0600, independent of umask
	// widening it.
	tmp, err := os.CreateTemp(dir, ".iamd-key-*")
	if err != nil {
		return nil, fmt.Errorf("secrets: create key file: %w", err)
	}
	tmpName := tmp.Name()
	defer func() {
		// The temporary name is only a staging link; always drop it.
		if rmErr := os.Remove(tmpName); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) && err == nil {
			err = fmt.Errorf("secrets: remove staging key file: %w", rmErr)
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("secrets: chmod key file: %w", err)
	}
	if _, err := tmp.Write(key); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("secrets: write key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("secrets: sync key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("secrets: close key file: %w", err)
	}
	if err := os.Link(tmpName, path); err != nil {
		return nil, fmt.Errorf("secrets: install key file: %w", err)
	}
	// Persist the new directory entry so a crash cannot lose a key that
	// has already been used to seal data. Directories cannot be opened for
	// syncing on every platform, hence best effort on open.
	if d, err := os.Open(dir); err == nil {
		syncErr := d.Sync()
		d.Close()
		if syncErr != nil {
			return nil, fmt.Errorf("secrets: sync key directory: %w", syncErr)
		}
	}
	return key, nil
}
