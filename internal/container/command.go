package container

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// searchPath is where a command without a slash is looked for, as the
// container's PATH has it.
var searchPath = []string{"/usr/local/bin", "/usr/bin", "/bin"}

// findCommand checks that Args[0] is an executable file the container
// will see, so that a missing program is an error of Start and not an
// app that exits at once.
func (s Spec) findCommand() error {
	name := s.Args[0]
	cands := []string{name}
	if !strings.Contains(name, "/") {
		cands = cands[:0]
		for _, d := range searchPath {
			cands = append(cands, d+"/"+name)
		}
	} else if !filepath.IsAbs(name) {
		return fmt.Errorf("%w: command %q must be absolute or a bare name", ErrSpec, name)
	}
	for _, c := range cands {
		if p, ok := s.hostPath(c); ok {
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
				return nil
			}
		}
	}
	return fmt.Errorf("%w: command %q is not an executable file in the container", ErrSpec, name)
}

// hostPath is where the file the container sees at p lies on the host:
// under a bind, in Root, or (without a Root) in the host's own system
// directories; false when the container would not see it.
func (s Spec) hostPath(p string) (string, bool) {
	p = filepath.Clean(p)
	for i := len(s.Binds) - 1; i >= 0; i-- { // later binds cover earlier ones
		b := s.Binds[i]
		if p == b.Target || strings.HasPrefix(p, b.Target+"/") {
			return b.Source + strings.TrimPrefix(p, b.Target), true
		}
	}
	if s.Root != "" {
		return filepath.Join(s.Root, p), true
	}
	if top, rest, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/"); top != "" {
		if dst, err := os.Readlink("/" + top); err == nil && strings.HasPrefix(strings.TrimPrefix(dst, "/"), "usr/") {
			p = "/" + strings.TrimPrefix(dst, "/") + "/" + rest // merged /usr: /bin -> usr/bin
		}
	}
	for _, d := range HostDirs {
		if strings.HasPrefix(p, d+"/") {
			return p, true
		}
	}
	return "", false
}
