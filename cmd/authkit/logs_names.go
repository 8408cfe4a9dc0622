package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"sigs.k8s.io/yaml"

	"github.com/kong-authkit/kong-authkit/pkg/authlog"
)

// routeName is what an operator calls a route: its name and its service's.
type routeName struct{ Name, Service string }

// routeNames maps route ids to names. error.log records carry only the
// route id (route_id); file-log entries carry the name, the rest comes from
// the gateway's config (--config) or its Admin API (--admin-url).
type routeNames map[string]routeName

// errNoRouteIDs: a declarative config whose routes have neither ids nor
// names gives Kong nothing to derive ids from; it draws random ones.
var errNoRouteIDs = errors.New("no route in it has an id or a name: Kong gives such routes random ids, which only --admin-url can resolve")

// declEntity is the part of a kong.yaml service or route that names it.
type declEntity struct {
	ID      string          `json:"id"`
	Name    string          `json:"name"`
	Service json.RawMessage `json:"service"` // a route's: a name, an id, or {id|name}
	Routes  []declEntity    `json:"routes"`
}

// loadConfigNames reads a DB-less declarative config (kong.yaml). An entity
// declared without an id gets the id Kong derives from its name
// (declarativeID), so the names match what Kong logs. unnamed counts
// routes with neither, which cannot be resolved.
func loadConfigNames(path string) (names routeNames, unnamed int, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	var doc struct{ Services, Routes []declEntity }
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	services := map[string]string{} // id or name → name
	for _, s := range doc.Services {
		id := entityID("services", s)
		services[id], services[s.Name] = s.Name, s.Name
	}
	names = routeNames{}
	add := func(r declEntity, service string) {
		if id := entityID("routes", r); id != "" {
			names[id] = routeName{Name: r.Name, Service: service}
		} else {
			unnamed++
		}
	}
	for _, s := range doc.Services {
		for _, r := range s.Routes {
			add(r, s.Name)
		}
	}
	for _, r := range doc.Routes {
		add(r, services[serviceRef(r.Service)])
	}
	if len(names) == 0 && unnamed > 0 {
		return nil, unnamed, fmt.Errorf("%s: %w", path, errNoRouteIDs)
	}
	return names, unnamed, nil
}

func entityID(entity string, e declEntity) string {
	switch {
	case e.ID != "":
		return e.ID
	case e.Name != "":
		return declarativeID(entity, e.Name)
	}
	return ""
}

// serviceRef reads a top-level route's `service:` (a name or id, or an
// object with either).
func serviceRef(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct{ ID, Name string }
	_ = json.Unmarshal(raw, &o)
	if o.Name != "" {
		return o.Name
	}
	return o.ID
}

// name fills the route rows of every code with the names known.
func (n routeNames) name(rep *authlog.Report) {
	if len(n) == 0 {
		return
	}
	for i := range rep.Codes {
		rows := rep.Codes[i].Routes.Top
		for j := range rows {
			rn, ok := n[rows[j].Key]
			if !ok {
				continue
			}
			if rows[j].Name == "" {
				rows[j].Name = rn.Name
			}
			rows[j].Service = rn.Service
		}
	}
}
