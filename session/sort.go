package session

import "sort"

func sortNewestFirst(ss []*Session) {
	sort.Slice(ss, func(i, j int) bool {
		if ss[i].CreatedAt.Equal(ss[j].CreatedAt) {
			return ss[i].ID < ss[j].ID
		}
		return ss[i].CreatedAt.After(ss[j].CreatedAt)
	})
}
