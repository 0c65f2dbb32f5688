// Package spool is a bounded, durable first-in first-out queue of byte
// segments in one directory. Each segment is one file, written to a
// temporary name, synced and renamed, so a crash leaves either the whole
// segment or none of it. Segments are read back in the order they were
// appended, across process restarts.
//
// A directory belongs to one Spool at a time; two processes sharing one
// directory corrupt each other's order.
package spool

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// ErrFull is returned by [Spool.Append] when the segment would take the
// spool over its byte limit.
var ErrFull = errors.New("spool: full")

const ext = ".seg"

// Spool is a directory of segments. Its methods are safe for concurrent
// use.
type Spool struct {
	dir      string
	maxBytes int64

	mu    sync.Mutex
	seqs  []uint64         // pending segments, oldest first
	sizes map[uint64]int64 // size of each pending segment
	bytes int64            // sum of sizes
	next  uint64
}

// Open opens (creating it if needed) the spool in dir, holding at most
// maxBytes of segments (maxBytes <= 0: no limit). Segments left by an
// earlier process are kept and come first; a partly written segment (a
// temporary file) is removed.
func Open(dir string, maxBytes int64) (*Spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	s := &Spool{dir: dir, maxBytes: maxBytes, sizes: map[uint64]int64{}, next: 1}
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, ".tmp") {
			_ = os.Remove(filepath.Join(dir, name))
			continue
		}
		seq, err := strconv.ParseUint(strings.TrimSuffix(name, ext), 10, 64)
		if !strings.HasSuffix(name, ext) || err != nil || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return nil, fmt.Errorf("spool: %w", err)
		}
		s.seqs = append(s.seqs, seq)
		s.sizes[seq] = info.Size()
		s.bytes += info.Size()
		s.next = max(s.next, seq+1)
	}
	slices.Sort(s.seqs)
	return s, nil
}

// Dir is the spool's directory.
func (s *Spool) Dir() string { return s.dir }

func (s *Spool) path(seq uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%020d%s", seq, ext))
}

// Append writes b as the newest segment and syncs it to disk. It returns
// [ErrFull] (and writes nothing) when b would take the spool over its
// limit, or the I/O error.
func (s *Spool) Append(b []byte) error { return s.append(b, true) }

// AppendNoSync is Append without the syncs: the segment survives the
// process ending at once, not the machine losing power. For many small
// segments written on a latency-sensitive path.
func (s *Spool) AppendNoSync(b []byte) error { return s.append(b, false) }

func (s *Spool) append(b []byte, durable bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.maxBytes > 0 && s.bytes+int64(len(b)) > s.maxBytes {
		return ErrFull
	}
	seq := s.next
	name := s.path(seq)
	tmp := name + ".tmp"
	if err := write(tmp, b, durable); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("spool: %w", err)
	}
	if err := os.Rename(tmp, name); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("spool: %w", err)
	}
	if durable {
		syncDir(s.dir)
	}
	s.next++
	s.seqs = append(s.seqs, seq)
	s.sizes[seq] = int64(len(b))
	s.bytes += int64(len(b))
	return nil
}

func write(name string, b []byte, durable bool) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil && durable {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// syncDir makes a rename or removal durable where the platform allows.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// Oldest returns the oldest segment and its sequence number; ok is false
// when the spool is empty. The segment stays until [Spool.Remove].
func (s *Spool) Oldest() (seq uint64, b []byte, ok bool, err error) {
	return s.After(0)
}

// After returns the oldest segment whose sequence number is greater than
// prev; ok is false when there is none.
func (s *Spool) After(prev uint64) (seq uint64, b []byte, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, _ := slices.BinarySearch(s.seqs, prev+1)
	if i == len(s.seqs) {
		return 0, nil, false, nil
	}
	seq = s.seqs[i]
	b, err = os.ReadFile(s.path(seq))
	if err != nil {
		return seq, nil, false, fmt.Errorf("spool: %w", err)
	}
	return seq, b, true, nil
}

// Newest returns the sequence number of the newest pending segment, 0
// when the spool is empty. Sequence numbers grow with every append.
func (s *Spool) Newest() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.seqs) == 0 {
		return 0
	}
	return s.seqs[len(s.seqs)-1]
}

// Remove deletes the segment seq (normally the one [Spool.Oldest]
// returned). Removing a segment that is not pending is a no-op.
func (s *Spool) Remove(seq uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.Index(s.seqs, seq)
	if i < 0 {
		return nil
	}
	// Not synced: a removal lost to a power cut brings a delivered segment
	// back (delivered twice), never loses one.
	if err := os.Remove(s.path(seq)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("spool: %w", err)
	}
	s.seqs = slices.Delete(s.seqs, i, i+1)
	s.bytes -= s.sizes[seq]
	delete(s.sizes, seq)
	return nil
}

// Len returns the number of pending segments.
func (s *Spool) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seqs)
}

// Bytes returns the pending segments' total size.
func (s *Spool) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}
