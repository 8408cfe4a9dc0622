package errcode

// Outcome is what became of a request an authkit plugin decided. It is the
// one vocabulary of the `outcome` label of authkit_decisions_total, the
// `outcome` member of a log record and the per-outcome counts of `authkit
// logs --json`. Never rename one: dashboards and alerts select on them.
type Outcome string

const (
	// OutcomeAccepted: the request went on authenticated. A log record with
	// this outcome is a warning about an accepted request (stale keys
	// served while the provider failed, a config that weakens a
	// guarantee); its code says what to look at.
	OutcomeAccepted Outcome = "accepted"
	// OutcomeRefused: the client got the code's status and message (for
	// authkit-oauth-explain: the provider's answer was explained with the
	// code, or replaced).
	OutcomeRefused Outcome = "refused"
	// OutcomeAnonymous: authentication failed with a client-side code and
	// the request went on as the configured anonymous consumer.
	OutcomeAnonymous Outcome = "anonymous"
)

// Outcomes lists every outcome, in a fixed order.
func Outcomes() []Outcome { return []Outcome{OutcomeAccepted, OutcomeRefused, OutcomeAnonymous} }

// Codes lists every code of the catalog, sorted.
func Codes() []Code {
	all := All()
	out := make([]Code, len(all))
	for i, e := range all {
		out[i] = e.Code
	}
	return out
}
