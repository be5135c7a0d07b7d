package main

import (
	"flag"
	"path/filepath"

	"github.com/streamstack/streamstack/apps"
)

// appsFileFlag is --apps-file: parsing it loads the catalogue, so a bad
// file fails at start; its value is the absolute path, passed down to
// streamers as STREAMSTACK_APPS_FILE.
type appsFileFlag struct {
	path    string
	catalog **apps.Catalog
}

func (f *appsFileFlag) String() string {
	if f == nil {
		return ""
	}
	return f.path
}

func (f *appsFileFlag) Set(v string) error {
	if v != "" {
		abs, err := filepath.Abs(v)
		if err != nil {
			return err
		}
		v = abs
	}
	c, err := apps.Load(v)
	if err != nil {
		return err
	}
	f.path, *f.catalog = v, c
	return nil
}

// addAppsFileFlag registers --apps-file, loading into *catalog, which
// starts as the built-ins.
func addAppsFileFlag(fs *flag.FlagSet, catalog **apps.Catalog) {
	*catalog = apps.Default()
	fs.Var(&appsFileFlag{catalog: catalog}, "apps-file",
		"JSON applications catalogue ({\"apps\": [...]}, see docs/apps.md); empty: the built-ins, test-pattern and xterm")
}
