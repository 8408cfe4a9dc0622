package main

import (
	"crypto/sha1"
	"encoding/hex"
	"strings"
)

// kongEntitiesNamespace is the UUID namespace Kong's declarative config
// derives entity ids from (kong/db/schema/others/declarative_config.lua,
// uuid_generators._entities, Kong 3.9.3).
const kongEntitiesNamespace = "fd02801f-0957-4a15-a55a-c8d9606f30b5"

// declarativeID is the id Kong gives, in DB-less mode, a service or route
// declared with a name and no id: generate_ids → get_key_for_uuid_gen uses
// the endpoint key (the name, unique, so nothing is appended) and
// generate_uuid(schema.name, name) is a v5 UUID (RFC 9562 §5.5, resty
// jit-uuid factory_v5) of the name in a namespace that is itself the v5
// UUID of the entity name ("routes", "services") in kongEntitiesNamespace.
// An entity with neither id nor name gets a random id: it cannot be named.
func declarativeID(entity, name string) string {
	return uuidV5(uuidV5(kongEntitiesNamespace, entity), name)
}

// uuidV5 is RFC 9562's name-based UUID with SHA-1; ns must be a valid UUID
// in text form.
func uuidV5(ns, name string) string {
	nsBytes, err := hex.DecodeString(strings.ReplaceAll(ns, "-", ""))
	if err != nil || len(nsBytes) != 16 {
		panic("uuidV5: bad namespace " + ns)
	}
	h := sha1.New()
	h.Write(nsBytes)
	h.Write([]byte(name))
	u := h.Sum(nil)[:16]
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	x := hex.EncodeToString(u)
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}
