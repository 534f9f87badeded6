package target

// Tests compare the read strategies, which a target otherwise chooses by cost.
type ReadStrategy = readStrategy

const (
	ReadPerID = readPerID
	ReadList  = readList
)

// ForceReadStrategy makes t read every scrape's sessions one way.
func ForceReadStrategy(t *Target, m ReadStrategy) { t.mode = m }
