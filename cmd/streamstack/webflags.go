package main

import (
	"flag"
	"net/http"

	"github.com/streamstack/streamstack/web"
)

// webFlags are the settings of the web client the gateway serves.
type webFlags struct {
	frameAncestors string
}

func addWebFlags(fs *flag.FlagSet) *webFlags {
	f := &webFlags{}
	fs.StringVar(&f.frameAncestors, "frame-ancestors", web.DefaultFrameAncestors, "pages that may show the web client in a frame, as CSP frame-ancestors sources separated by spaces ('self', 'none', https://portal.example.com): a page elsewhere cannot frame it to trick clicks")
	return f
}

// handler is the web client with these settings.
func (f *webFlags) handler() (http.Handler, error) {
	if err := web.CheckFrameAncestors(f.frameAncestors); err != nil {
		return nil, err
	}
	return web.HandlerFraming(f.frameAncestors), nil
}
