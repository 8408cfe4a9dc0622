package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Bounds on what --admin-url reads: a gateway with a million routes is
// still read in bounded time and memory, and a wrong URL fails fast.
const (
	adminTimeout  = 30 * time.Second
	adminMaxPages = 1000
	adminMaxBody  = 16 << 20
)

// adminEntity is the part of an Admin API route or service that names it.
type adminEntity struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Service *struct {
		ID string `json:"id"`
	} `json:"service"`
}

// fetchAdminNames reads every route and service from Kong's Admin API (GET
// /services and /routes, following `next` page by page). It works in every
// mode, including DB-less configs whose routes have no names.
func fetchAdminNames(ctx context.Context, client *http.Client, base string) (routeNames, error) {
	ctx, cancel := context.WithTimeout(ctx, adminTimeout)
	defer cancel()
	services, err := adminList(ctx, client, base, "/services")
	if err != nil {
		return nil, err
	}
	svcName := make(map[string]string, len(services))
	for _, s := range services {
		svcName[s.ID] = s.Name
	}
	routes, err := adminList(ctx, client, base, "/routes")
	if err != nil {
		return nil, err
	}
	names := make(routeNames, len(routes))
	for _, r := range routes {
		rn := routeName{Name: r.Name}
		if r.Service != nil {
			if rn.Service = svcName[r.Service.ID]; rn.Service == "" {
				rn.Service = r.Service.ID
			}
		}
		names[r.ID] = rn
	}
	return names, nil
}

// adminList reads all pages of one Admin API collection.
func adminList(ctx context.Context, client *http.Client, base, path string) ([]adminEntity, error) {
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("--admin-url %q: want http(s)://host:port", base)
	}
	next := u.JoinPath(path)
	q := next.Query()
	q.Set("size", "1000")
	next.RawQuery = q.Encode()
	var all []adminEntity
	for page := 0; next != nil; page++ {
		if page == adminMaxPages {
			return nil, fmt.Errorf("%s: more than %d pages", path, adminMaxPages)
		}
		var body struct {
			Data []adminEntity `json:"data"`
			Next *string       `json:"next"`
		}
		if err := adminGet(ctx, client, next.String(), &body); err != nil {
			return nil, err
		}
		all = append(all, body.Data...)
		next = nil
		if body.Next != nil && *body.Next != "" {
			ref, err := url.Parse(*body.Next)
			if err != nil {
				return nil, fmt.Errorf("%s: bad next %q", path, *body.Next)
			}
			next = nextPage(u, ref)
		}
	}
	return all, nil
}

func adminGet(ctx context.Context, client *http.Client, u string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, res.Status)
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, adminMaxBody)).Decode(into); err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	return nil
}

// nextPage resolves Kong's `next`, a path from the Admin API's root
// ("/routes?offset=…"), against base, keeping a path prefix base may have
// behind a proxy.
func nextPage(base, ref *url.URL) *url.URL {
	if ref.IsAbs() {
		return ref
	}
	n := base.JoinPath(ref.Path)
	n.RawQuery = ref.RawQuery
	return n
}
