package accesstoken

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

func TestParseClaims(t *testing.T) {
	c, err := ParseClaims([]byte(`{"iss":"i","sub":"s","client_id":"c","azp":"z","jti":"j","aud":"a",
		"exp":1700000000,"nbf":1600000000.25,"iat":1600000000,"scope":" a  b ","big":12345678901234567890,"x":{"y":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != "i" || c.Subject != "s" || c.ClientID != "c" || c.AZP != "z" || c.JTI != "j" {
		t.Errorf("strings: %+v", c)
	}
	if len(c.Audience) != 1 || c.Audience[0] != "a" {
		t.Errorf("aud %v", c.Audience)
	}
	if !c.Expiry.Equal(time.Unix(1700000000, 0)) || !c.NotBefore.Equal(time.Unix(1600000000, 250_000_000)) || !c.IssuedAt.Equal(time.Unix(1600000000, 0)) {
		t.Errorf("times %v %v %v", c.Expiry, c.NotBefore, c.IssuedAt)
	}
	if len(c.Scopes) != 2 || c.Scopes[0] != "a" || c.Scopes[1] != "b" {
		t.Errorf("scopes %q", c.Scopes)
	}
	if c.Get("big").(json.Number).String() != "12345678901234567890" {
		t.Errorf("big number lost precision: %v", c.Get("big"))
	}
	if c.Get("missing") != nil || (*Claims)(nil).Get("x") != nil {
		t.Error("Get of an absent claim must be nil")
	}
}

func TestParseClaimsMalformed(t *testing.T) {
	for _, js := range []string{
		``, `null`, `[]`, `"x"`, `{`, `{"a":1}x`, `{}{}`,
		`{"iss":1}`, `{"sub":null}`, `{"client_id":true}`, `{"azp":[]}`, `{"jti":{}}`,
		`{"aud":1}`, `{"aud":[1]}`, `{"aud":null}`, `{"aud":{"a":1}}`,
		`{"exp":"1700000000"}`, `{"exp":true}`, `{"exp":null}`, `{"exp":-1}`, `{"exp":1e300}`, `{"nbf":[1]}`, `{"iat":"now"}`,
		`{"scope":1}`, `{"scope":["a",2]}`, `{"scp":{"a":1}}`,
	} {
		_, err := ParseClaims([]byte(js))
		if !errors.Is(err, errcode.TokenMalformed) {
			t.Errorf("%s: err = %v", js, err)
		}
	}
}

// Introspection answers are decoded by their caller; ClaimsFromMap accepts
// float64 and Go integers as NumericDates.
func TestClaimsFromMap(t *testing.T) {
	c, err := ClaimsFromMap(map[string]any{"active": true, "exp": float64(1700000000), "iat": int64(1600000000), "aud": []string{"x"}, "scope": "a"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Expiry.Unix() != 1700000000 || c.IssuedAt.Unix() != 1600000000 || c.Audience[0] != "x" || c.Scopes[0] != "a" {
		t.Fatalf("%+v", c)
	}
}

func TestParseHeader(t *testing.T) {
	h, err := ParseHeader(b64(`{"alg":"RS256","typ":"at+jwt","kid":"k1","x5u":"https://evil"}`))
	if err != nil || h.Alg != "RS256" || h.Typ != "at+jwt" || h.Kid != "k1" {
		t.Fatalf("%+v %v", h, err)
	}
	for _, seg := range []string{"", "!", b64(`{`), b64(`null`), b64(`[]`), b64(`{"alg":1}`), b64(`{"typ":[]}`),
		b64(`{"alg":"RS256","crit":["b64"],"b64":false}`), b64(`{"alg":"RS256"}`) + "="} {
		if _, err := ParseHeader(seg); !errors.Is(err, errcode.TokenMalformed) {
			t.Errorf("%q: err = %v", seg, err)
		}
	}
	for typ, ok := range map[string]bool{"at+jwt": true, "AT+JWT": true, "application/at+jwt": true, "Application/At+Jwt": true,
		"JWT": false, "": false, "at+jwt ": false, "application/jwt": false, "x/at+jwt": false} {
		if isATJWT(typ) != ok {
			t.Errorf("isATJWT(%q) = %v", typ, !ok)
		}
	}
}

func TestCheckTokenUse(t *testing.T) {
	tests := []struct {
		name         string
		raw          map[string]any
		introspected bool
		bad          string // "" = accepted; else the member named
	}{
		{"nothing said", map[string]any{"scope": "a"}, true, ""},
		{"hydra access", map[string]any{"token_use": "access_token", "token_type": "Bearer"}, true, ""},
		{"hydra refresh", map[string]any{"token_use": "refresh_token", "token_type": "Bearer"}, true, "token_use"},
		{"cognito access", map[string]any{"token_use": "access"}, false, ""},
		{"cognito id", map[string]any{"token_use": "id"}, false, "token_use"},
		{"token_use empty", map[string]any{"token_use": ""}, true, "token_use"},
		{"token_use number", map[string]any{"token_use": 1.0}, true, "token_use"},
		{"bearer any case", map[string]any{"token_type": "bEaReR"}, true, ""},
		{"rfc 8693 access", map[string]any{"token_type": "urn:ietf:params:oauth:token-type:access_token"}, true, ""},
		{"refresh type", map[string]any{"token_type": "refresh_token"}, true, "token_type"},
		{"Refresh type", map[string]any{"token_type": "Refresh"}, true, "token_type"},
		{"dpop", map[string]any{"token_type": "DPoP"}, true, "token_type"},
		{"n_a", map[string]any{"token_type": "N_A"}, true, "token_type"},
		{"token_type in a JWT is not RFC 7662's", map[string]any{"token_type": "whatever"}, false, ""},
		{"keycloak access", map[string]any{"typ": "Bearer"}, true, ""},
		{"keycloak refresh", map[string]any{"typ": "Refresh"}, false, "typ"},
		{"keycloak offline", map[string]any{"typ": "Offline"}, true, "typ"},
		{"keycloak id", map[string]any{"typ": "ID"}, false, "typ"},
		{"typ other", map[string]any{"typ": "JWT"}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckTokenUse(tt.raw, tt.introspected)
			if tt.bad == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var e *errcode.Error
			if !errors.As(err, &e) || e.Code != errcode.TokenTypeInvalid || e.Field(tt.bad) == nil {
				t.Fatalf("got %v, want OAUTH_TOKEN_TYPE_INVALID naming %s", err, tt.bad)
			}
		})
	}
}
