package domain

import "encoding/json"

// MarshalJSON writes a summary as the webhook "data" object; absent lists
// are written as [] rather than null, as the schema requires.
func (s Summary) MarshalJSON() ([]byte, error) {
	type plain Summary // no methods: no recursion
	p := plain(s)
	if p.Phases == nil {
		p.Phases = []Phase{}
	}
	if p.AbnormalEvents == nil {
		p.AbnormalEvents = []Event{}
	}
	if p.Events == nil {
		p.Events = []Event{}
	}
	return json.Marshal(p)
}
