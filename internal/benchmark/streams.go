package benchmark

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
)

// streams are a real-time load's running streams (FFmpegLoad's processes,
// EncoderLoad's encoders), newest last, and the frames they share.
type streams[S interface{ close() error }] struct {
	mu   sync.Mutex
	list []S

	once   sync.Once
	frames []byte // the pattern file, mapped read-only
	err    error
}

// mapped maps file, raw frames of size bytes, on first use: every stream
// reading it shares the page cache's copy.
func (s *streams[S]) mapped(file string, size int) ([]byte, error) {
	s.once.Do(func() { s.frames, s.err = mapFrames(file, size) })
	return s.frames, s.err
}

func (s *streams[S]) add(x S) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list = append(s.list, x)
}

// Len is the number of streams running.
func (s *streams[S]) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.list)
}

func (s *streams[S]) snapshot() []S {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]S(nil), s.list...)
}

// removeLast ends the n streams started last.
func (s *streams[S]) removeLast(n int) error {
	s.mu.Lock()
	n = min(n, len(s.list))
	gone := s.list[len(s.list)-n:]
	s.list = s.list[: len(s.list)-n : len(s.list)-n]
	s.mu.Unlock()
	var errs []error
	for _, x := range gone {
		errs = append(errs, x.close())
	}
	return errors.Join(errs...)
}

// closeAll ends every stream and unmaps the frames.
func (s *streams[S]) closeAll() error {
	err := s.removeLast(s.Len())
	if s.frames != nil {
		err = errors.Join(err, syscall.Munmap(s.frames))
		s.frames = nil
	}
	return err
}

func frameSize(s EncodeSettings) int { return s.Width * s.Height * 3 / 2 }

// mapFrames maps file, raw frames of size bytes, read-only.
func mapFrames(file string, size int) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() < int64(size) {
		return nil, fmt.Errorf("benchmark: %s holds no whole frame", file)
	}
	return syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
}
