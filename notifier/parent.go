package notifier

// withoutParentUpdates is how a destination with no per-deployment parent
// message treats ParentUpdate notifications: it acknowledges them (a nil
// Err) without sending anything, and gives the rest to notify, so they
// neither go into nor count toward a digest. Results keep ns's order.
func withoutParentUpdates(ns []Notification, notify func([]Notification) []Result) []Result {
	results, rest, at := splitParentUpdates(ns)
	if len(rest) == 0 {
		return results
	}
	for j, r := range notify(rest) {
		if j < len(at) {
			results[at[j]] = r
		}
	}
	return results
}

// splitParentUpdates returns results with the ParentUpdate notifications
// acknowledged (a nil Err) and every other slot failed with [ErrNoResult]
// until filled in, the other notifications in order, and their indices in
// ns.
func splitParentUpdates(ns []Notification) (results []Result, rest []Notification, at []int) {
	results = make([]Result, len(ns))
	for i, n := range ns {
		results[i] = Result{ID: n.ID}
		if n.ParentUpdate {
			continue
		}
		results[i].Err = ErrNoResult
		rest = append(rest, n)
		at = append(at, i)
	}
	if len(rest) == len(ns) {
		return results, ns, at
	}
	return results, rest, at
}
