package bearer

import (
	"errors"
	"testing"

	"github.com/kong-authkit/kong-authkit/pkg/errcode"
)

// RFC 9449 §7.1: `Authorization: DPoP <token>` when DPoP is accepted.
func TestExtractDPoPScheme(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      Input
		want    Credential
		wantErr error
	}{
		{"DPoP", Input{Authorization: []string{"DPoP " + tok}, AcceptDPoP: true}, Credential{tok, SourceHeader, SchemeDPoP}, nil},
		{"dpop lower case", Input{Authorization: []string{"dpop abc"}, AcceptDPoP: true}, Credential{"abc", SourceHeader, SchemeDPoP}, nil},
		{"Bearer still works", Input{Authorization: []string{"Bearer abc"}, AcceptDPoP: true}, Credential{"abc", SourceHeader, SchemeBearer}, nil},
		{"query is bearer", Input{Query: []string{"abc"}, AcceptDPoP: true}, Credential{"abc", SourceQuery, SchemeBearer}, nil},
		{"DPoP off is another scheme", Input{Authorization: []string{"DPoP abc"}}, Credential{}, errcode.TokenMissing},
		{"DPoP and a query token", Input{Authorization: []string{"DPoP abc"}, Query: []string{"abc"}, AcceptDPoP: true}, Credential{}, errcode.RequestInvalid},
		{"DPoP without token", Input{Authorization: []string{"DPoP"}, AcceptDPoP: true}, Credential{}, errcode.RequestInvalid},
		{"DPoP two words", Input{Authorization: []string{"DPoP a b"}, AcceptDPoP: true}, Credential{}, errcode.RequestInvalid},
		{"two headers", Input{Authorization: []string{"DPoP a", "Bearer a"}, AcceptDPoP: true}, Credential{}, errcode.RequestInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ExtractCredential(tc.in)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}
