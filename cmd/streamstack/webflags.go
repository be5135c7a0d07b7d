package main

import (
	"flag"
	"net/http"
	"strings"

	"github.com/streamstack/streamstack/web"
)

// webFlags are the settings of the web client the gateway serves.
type webFlags struct {
	frameAncestors string
	gateways       []string
}

func addWebFlags(fs *flag.FlagSet) *webFlags {
	f := &webFlags{}
	fs.StringVar(&f.frameAncestors, "frame-ancestors", web.DefaultFrameAncestors, "pages that may show the web client in a frame, as CSP frame-ancestors sources separated by spaces ('self', 'none', https://portal.example.com): a page elsewhere cannot frame it to trick clicks")
	fs.Func("web-gateways", "the cluster's other gateways (http(s)://host[:port], comma-separated) the web client joins its session through, in turn, when this one fails; each must list this gateway's origin in its --allowed-origins; empty: this gateway alone", func(v string) error {
		f.gateways = nil
		for g := range strings.SplitSeq(v, ",") {
			if g = strings.TrimSpace(g); g != "" {
				f.gateways = append(f.gateways, g)
			}
		}
		return web.Options{FrameAncestors: web.DefaultFrameAncestors, Gateways: f.gateways}.Validate()
	})
	return f
}

// handler is the web client with these settings.
func (f *webFlags) handler() (http.Handler, error) {
	return web.NewHandler(web.Options{FrameAncestors: f.frameAncestors, Gateways: f.gateways})
}
