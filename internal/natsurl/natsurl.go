// Package natsurl reads the NATS server URLs a setting holds: one, or a
// comma-separated list as nats.Connect takes, each with or without a
// scheme. It owns nothing else; callers decide what of a URL to show.
package natsurl

import (
	"net/url"
	"strings"
)

// Parse splits raw into its URLs, skipping empty parts and giving each
// part without a scheme nats.Connect's ("nats://"); a part that does not
// parse comes back nil with its error.
func Parse(raw string) ([]*url.URL, []error) {
	var urls []*url.URL
	var errs []error
	for part := range strings.SplitSeq(raw, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		if !strings.Contains(part, "://") {
			part = "nats://" + part
		}
		u, err := url.Parse(part)
		urls, errs = append(urls, u), append(errs, err)
	}
	return urls, errs
}
