// Package policy decides which host:port a browser may make the gateway
// dial, and dials it.
//
// It has four parts, all pure but the last:
//   - target.go parses the browser's first message, "host:port", with
//     errors meant for the person who typed it;
//   - rules.go parses -allow and -deny into Rules, by the same grammar for
//     host names and ports (hostport.go), so that a rule can name every host
//     a browser can ask for;
//   - decide.go is the decision: Policy.Decide takes a target's name, the
//     addresses it resolved to and its port, and returns the addresses that
//     may be dialled or a *DeniedError that says why not;
//   - dial.go is the Dialer, which resolves a target once, asks the Policy,
//     and dials exactly the addresses it checked: a second lookup would let a
//     DNS answer that changed in between (DNS rebinding) reach an address
//     that was never checked.
//
// The package holds no mutable state: a Policy does not change after New,
// so every session shares one.
package policy
