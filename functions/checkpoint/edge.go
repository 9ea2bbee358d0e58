package checkpoint

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// edgeKeyBytes is how many bytes of SHA-256 an edge key keeps. 48 bits
// make a new event mistaken for one of the edge's (and so not reported)
// vanishingly rare: at most len(edge)/2^48 per new event, about 2·10^-13
// for an edge of 50, or one in ten thousand years at a thousand new events
// a minute. 6 bytes rather than 8 is what keeps the item of a service with
// a 50-event edge, a UUID for an id and a few sent entries within one
// DynamoDB write unit (1 KB); see the package doc.
const edgeKeyBytes = 6

// edgeKeyLen is the length of an EdgeKey: 6 bytes in unpadded base64url.
const edgeKeyLen = 8

// keyEncoding encodes edge keys, one by one and packed: unpadded base64url,
// strict, so each key has exactly one spelling.
var keyEncoding = base64.RawURLEncoding.Strict()

// EdgeKey returns the short fixed-size key Checkpoint.Edge holds for an
// event fingerprint: the first 6 bytes of the fingerprint's SHA-256, as an
// 8-character base64url string. The watch loop stores
// EdgeKey(fingerprint) and looks events up by EdgeKey(fingerprint).
func EdgeKey(fingerprint string) string {
	sum := sha256.Sum256([]byte(fingerprint))
	return keyEncoding.EncodeToString(sum[:edgeKeyBytes])
}

// edgeKeyRaw appends to dst the 6 bytes an Edge entry is stored as: the key
// itself when the entry is an EdgeKey, else the EdgeKey of the entry taken
// as a fingerprint (as the previous release stored them). Fingerprints are
// not mistaken for keys as long as they are not 8 base64url characters
// (timeline.Fingerprint's are 16 hexadecimal digits).
func edgeKeyRaw(entry string, dst []byte) []byte {
	if len(entry) == edgeKeyLen {
		var raw [edgeKeyBytes]byte
		if n, err := keyEncoding.Decode(raw[:], []byte(entry)); err == nil && n == edgeKeyBytes {
			return append(dst, raw[:]...)
		}
	}
	sum := sha256.Sum256([]byte(entry))
	return append(dst, sum[:edgeKeyBytes]...)
}

// packEdge is edge as stored: the concatenated 6-byte keys in base64url;
// "" for an empty edge.
func packEdge(edge []string) string {
	if len(edge) == 0 {
		return ""
	}
	raw := make([]byte, 0, len(edge)*edgeKeyBytes)
	for _, e := range edge {
		raw = edgeKeyRaw(e, raw)
	}
	return keyEncoding.EncodeToString(raw)
}

// unpackEdge reverses packEdge.
func unpackEdge(packed string) ([]string, error) {
	if packed == "" {
		return nil, nil
	}
	raw, err := keyEncoding.DecodeString(packed)
	if err != nil {
		return nil, fmt.Errorf("edge_keys: %w", err)
	}
	if len(raw)%edgeKeyBytes != 0 {
		return nil, fmt.Errorf("edge_keys: %d bytes, not a whole number of %d-byte keys", len(raw), edgeKeyBytes)
	}
	// The keys share one string: two allocations for the whole edge.
	n := len(raw) / edgeKeyBytes
	buf := make([]byte, n*edgeKeyLen)
	for i := range n {
		keyEncoding.Encode(buf[i*edgeKeyLen:], raw[i*edgeKeyBytes:(i+1)*edgeKeyBytes])
	}
	all := string(buf)
	edge := make([]string, n)
	for i := range edge {
		edge[i] = all[i*edgeKeyLen : (i+1)*edgeKeyLen]
	}
	return edge, nil
}

// normalizeEdge returns a copy of edge as a store returns it after a save:
// every entry an EdgeKey (see edgeKeyRaw). The memory store uses it so that
// it behaves as the stores that encode.
func normalizeEdge(edge []string) []string {
	if len(edge) == 0 {
		return nil
	}
	out := make([]string, len(edge))
	var raw [edgeKeyBytes]byte
	for i, e := range edge {
		out[i] = keyEncoding.EncodeToString(edgeKeyRaw(e, raw[:0]))
	}
	return out
}

// checkpointFields is Checkpoint without its methods, so that its fields
// are encoded by encoding/json as tagged (Edge is tagged "-").
type checkpointFields Checkpoint

// checkpointJSON is a checkpoint as encoded: every field under its tag,
// and the edge packed into one string.
type checkpointJSON struct {
	checkpointFields
	// EdgeKeys is Edge packed (packEdge).
	EdgeKeys string `json:"edge_keys,omitempty"`
	// LegacyEdge is the edge as the previous release wrote it: one
	// fingerprint string per event. Read only.
	LegacyEdge []string `json:"edge,omitempty"`
}

// MarshalJSON encodes c with every field under its usual name, and the edge
// packed into one string: "edge_keys" holds the concatenated 6-byte keys in
// base64url (8 bytes of JSON per event instead of a quoted fingerprint
// string of 19 or more). An Edge entry that is not an EdgeKey is stored as the
// EdgeKey of the entry.
func (c Checkpoint) MarshalJSON() ([]byte, error) {
	return json.Marshal(checkpointJSON{checkpointFields: checkpointFields(c), EdgeKeys: packEdge(c.Edge)})
}

// UnmarshalJSON decodes what MarshalJSON encodes, and checkpoints of the
// previous release: their "edge" array of fingerprints becomes the
// fingerprints' EdgeKeys, so it compares equal to what new code computes.
func (c *Checkpoint) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		return nil
	}
	var w checkpointJSON
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	edge, err := unpackEdge(w.EdgeKeys)
	if err != nil {
		return err
	}
	if len(w.LegacyEdge) > 0 {
		// Only one of the two is ever written; were both there, the edge
		// is every event either names.
		legacy := make([]string, len(w.LegacyEdge), len(w.LegacyEdge)+len(edge))
		for i, fp := range w.LegacyEdge {
			legacy[i] = EdgeKey(fp)
		}
		edge = append(legacy, edge...)
	}
	*c = Checkpoint(w.checkpointFields)
	c.Edge = edge
	return nil
}
