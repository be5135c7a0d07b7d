// Package flagenv overlays STREAMSTACK_* environment variables on a flag
// set: every flag --foo-bar can also be set by STREAMSTACK_FOO_BAR, and a
// flag given on the command line wins. One rule, so the README's settings
// table can be generated and checked instead of hand-kept.
package flagenv

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// Prefix of every environment variable.
const Prefix = "STREAMSTACK_"

// EnvName is the variable that sets a flag.
func EnvName(flagName string) string {
	return Prefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Parse parses args, then fills each flag not given on the command line from
// its environment variable, looked up with getenv.
func Parse(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		if v := getenv(EnvName(f.Name)); v != "" {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %w", EnvName(f.Name), v, e)
			}
		}
	})
	return err
}

// WriteTable writes a Markdown table of the flags: flag, variable, default,
// meaning.
func WriteTable(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintln(w, "| flag | environment | default | meaning |")
	fmt.Fprintln(w, "| --- | --- | --- | --- |")
	fs.VisitAll(func(f *flag.Flag) {
		def := f.DefValue
		if def == "" {
			def = "(none)"
		}
		fmt.Fprintf(w, "| `--%s` | `%s` | `%s` | %s |\n", f.Name, EnvName(f.Name), def, f.Usage)
	})
}
