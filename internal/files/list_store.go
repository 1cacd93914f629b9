package files

import (
	"context"
	"fmt"

	"github.com/weupload/weupload/internal/database"
)

// SQL of listings and search: one keyset query per table, shaped to the
// listing indexes (owner_id, parent, sort key, id).

// after is a keyset position: the sort key (as keyArg parsed it) and id
// of the last entry already returned.
type after struct {
	key any
	id  string
}

// listFolders returns up to limit folders after pos (nil: from the start).
func (l lister) listFolders(ctx context.Context, q database.Querier, pos *after, limit int) ([]Folder, error) {
	rows, err := q.Query(ctx, l.sql(false, pos != nil), l.args(false, pos, limit)...)
	if err != nil {
		return nil, err
	}
	return collectFolders(rows)
}

// listFiles returns up to limit files after pos (nil: from the start).
func (l lister) listFiles(ctx context.Context, q database.Querier, pos *after, limit int) ([]File, error) {
	rows, err := q.Query(ctx, l.sql(true, pos != nil), l.args(true, pos, limit)...)
	if err != nil {
		return nil, err
	}
	return collectFiles(rows)
}

// keyExpr is the sort expression for a table; it matches the listing
// indexes.
func (l lister) keyExpr(files bool) string {
	switch l.sortKey(files) {
	case SortDate:
		return "created_at"
	case SortSize:
		return "size"
	}
	return "lower(name)"
}

// args are the query's arguments: the owner, the folder (not for the root)
// or the search pattern, the position, the limit.
func (l lister) args(files bool, pos *after, limit int) []any {
	args := []any{l.ownerID}
	switch {
	case l.search:
		args = append(args, l.pattern)
	case l.folderID != "":
		args = append(args, l.folderID)
	}
	if pos != nil {
		args = append(args, pos.key, pos.id)
	}
	return append(args, limit)
}

// sql is the query of one table's entries (after a position when keyset is
// set), in order.
func (l lister) sql(files, keyset bool) string {
	table, cols, parentCol := "folders", folderColumns, "parent_id"
	if files {
		table, cols, parentCol = "files", fileColumns, "folder_id"
	}
	n := 1 // the last parameter used
	where := "owner_id = $1 AND " + parentCol + " IS NULL AND trashed_at IS NULL"
	switch {
	case l.search:
		where, n = "owner_id = $1 AND trashed_at IS NULL AND name ILIKE $2", 2
	case l.folderID != "":
		where, n = "owner_id = $1 AND "+parentCol+" = $2 AND trashed_at IS NULL", 2
	}
	key, dir, cmp := l.keyExpr(files), "ASC", ">"
	byName := key == "lower(name)"
	if byName && l.matchFirst {
		key = "(lower(name) || '')" // the same order, but no index provides it
	}
	if l.desc {
		dir, cmp = "DESC", "<"
	}
	if keyset {
		param := fmt.Sprintf("$%d", n+1)
		if byName {
			param = "lower(" + param + "::text)"
			if l.matchFirst {
				param = "(" + param + " || '')"
			}
		}
		where += fmt.Sprintf(" AND (%s, id) %s (%s, $%d::uuid)", key, cmp, param, n+2)
		n += 2
	}
	return fmt.Sprintf(`SELECT %s FROM %s WHERE %s ORDER BY %s %s, id %s LIMIT $%d`, cols, table, where, key, dir, dir, n+1)
}
