package files_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// ownerColumn is, per table this package changes, the column naming the
// account a row belongs to. Every UPDATE and DELETE, and every ON CONFLICT
// DO UPDATE, must name it, so a caller that forgets a lock or an access
// check still cannot change another account's rows. An empty column is an
// exception, with its reason.
var ownerColumn = map[string]string{
	"folders": "owner_id",
	"files":   "owner_id",
	"uploads": "owner_id",
	"grants":  "owner_id",
	// The quota row's key is the owner's id; the table has no owner_id.
	"quotas": "user_id",
	// Keyed by object key: the queue row belongs to no account (the bytes
	// it names are already unreachable from any row of one).
	"object_deletions": "",
	// Temporary table of one Reconcile session, holding store keys.
	"reconcile_objects": "",
}

// dynamicTable stands for a table name the code fills in (k.table): folders
// or files, both owner_id tables.
const dynamicTable = "?"

var (
	changeRe   = regexp.MustCompile(`(?is)\b(UPDATE|DELETE\s+FROM)\s+([a-z_]+|\?)`)
	notChange  = regexp.MustCompile(`(?is)\b(FOR|DO)\s+$`)
	upsertRe   = regexp.MustCompile(`(?is)\bINSERT\s+INTO\s+([a-z_]+).*?\bON\s+CONFLICT\b(.*?)\bDO\s+UPDATE\b`)
	sqlWordsRe = regexp.MustCompile(`\b(SELECT|INSERT\s+INTO|UPDATE|DELETE\s+FROM|WITH\s+RECURSIVE|ON\s+CONFLICT)\b`)
)

// segment returns the SQL from i to the end of its statement: the end of
// the text, or the parenthesis that closes the CTE it sits in.
func segment(sql string, i int) string {
	depth := 0
	for j := i; j < len(sql); j++ {
		switch sql[j] {
		case '(':
			depth++
		case ')':
			depth--
			if depth < 0 {
				return sql[i:j]
			}
		}
	}
	return sql[i:]
}

// ownerProblems returns what is wrong with the row changes in one SQL
// text, and how many changes it checked.
func ownerProblems(sql string) (problems []string, checked int) {
	for _, m := range changeRe.FindAllStringSubmatchIndex(sql, -1) {
		if notChange.MatchString(sql[:m[0]]) {
			continue // FOR UPDATE (a lock) or DO UPDATE (checked below)
		}
		table := strings.ToLower(sql[m[4]:m[5]])
		stmt := segment(sql, m[0])
		checked++
		col, known := ownerColumn[table]
		if table == dynamicTable {
			col, known = "owner_id", true
		}
		if !known {
			problems = append(problems, "unknown table "+table+" (add it to ownerColumn): "+oneLine(stmt))
			continue
		}
		if col == "" {
			continue
		}
		where := strings.Index(strings.ToUpper(stmt), "WHERE")
		if where < 0 || !regexp.MustCompile(`\b`+col+`\b`).MatchString(stmt[where:]) {
			problems = append(problems, "no "+col+" in the WHERE of: "+oneLine(stmt))
		}
	}
	for _, m := range upsertRe.FindAllStringSubmatchIndex(sql, -1) {
		table := strings.ToLower(sql[m[2]:m[3]])
		checked++
		col, known := ownerColumn[table]
		if !known {
			problems = append(problems, "unknown table "+table+" (add it to ownerColumn): "+oneLine(sql[m[0]:]))
			continue
		}
		if col == "" {
			continue
		}
		// The conflict target or the DO UPDATE's WHERE must name the owner.
		conflict := sql[m[4]:m[5]] + segment(sql, m[5])
		if !regexp.MustCompile(`\b` + col + `\b`).MatchString(conflict) {
			problems = append(problems, "ON CONFLICT DO UPDATE of "+table+" names no "+col+": "+oneLine(sql[m[0]:]))
		}
	}
	return problems, checked
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// stringExprs returns the text of every string expression in a Go file: a
// literal, or literals joined with +, where anything not a literal (a
// column list, k.table) reads as "?".
func stringExprs(t *testing.T, path string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var flatten func(e ast.Expr) (string, bool)
	flatten = func(e ast.Expr) (string, bool) {
		switch e := e.(type) {
		case *ast.BasicLit:
			if e.Kind != token.STRING {
				return "?", false
			}
			s, err := strconv.Unquote(e.Value)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			return s, true
		case *ast.BinaryExpr:
			if e.Op != token.ADD {
				return "?", false
			}
			l, lok := flatten(e.X)
			r, rok := flatten(e.Y)
			return l + r, lok || rok
		case *ast.ParenExpr:
			return flatten(e.X)
		}
		return "?", false
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BinaryExpr, *ast.BasicLit:
			if s, ok := flatten(n.(ast.Expr)); ok {
				out = append(out, s)
			}
			return false
		}
		return true
	})
	return out
}

// sourceFiles returns the package's non-test Go files, split into store
// files (*_store.go) and the rest.
func sourceFiles(t *testing.T) (store, other []string) {
	t.Helper()
	paths, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		switch {
		case strings.HasSuffix(p, "_test.go"):
		case strings.HasSuffix(p, "_store.go"):
			store = append(store, p)
		default:
			other = append(other, p)
		}
	}
	if len(store) == 0 || len(other) == 0 {
		wd, _ := os.Getwd()
		t.Fatalf("no source files found in %s", wd)
	}
	return store, other
}

// TestStoreChangesNameOwner fails on any UPDATE, DELETE or ON CONFLICT DO
// UPDATE in the store files that does not name the row's owner.
func TestStoreChangesNameOwner(t *testing.T) {
	t.Parallel()
	store, _ := sourceFiles(t)
	total := 0
	for _, path := range store {
		for _, sql := range stringExprs(t, path) {
			problems, n := ownerProblems(sql)
			total += n
			for _, p := range problems {
				t.Errorf("%s: %s", path, p)
			}
		}
	}
	t.Logf("checked %d row changes", total)
	// The package changes rows in 23 statements; far fewer means the
	// scan stopped seeing them.
	if total < 20 {
		t.Errorf("checked only %d row changes: the scan misses statements", total)
	}
}

// TestSQLOnlyInStoreFiles fails on SQL in a file that is not a store file.
func TestSQLOnlyInStoreFiles(t *testing.T) {
	t.Parallel()
	_, other := sourceFiles(t)
	for _, path := range other {
		for _, s := range stringExprs(t, path) {
			if sqlWordsRe.MatchString(s) {
				t.Errorf("%s: SQL outside a *_store.go file: %s", path, oneLine(s))
			}
		}
	}
}

// TestOwnerProblems checks the checker on statements it must reject and
// accept.
func TestOwnerProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		sql  string
		bad  bool
	}{
		{"update without owner", `UPDATE files SET name = $2 WHERE id = $1`, true},
		{"update with owner", `UPDATE files SET name = $2 WHERE id = $1 AND owner_id = $3`, false},
		{"owner only in SET", `UPDATE files SET owner_id = $2 WHERE id = $1`, true},
		{"dynamic table without owner", `UPDATE ? SET name = $2 WHERE id = $1`, true},
		{"delete without owner", `DELETE FROM grants WHERE id = $1`, true},
		{"delete without where", `DELETE FROM folders`, true},
		{"cte update without owner", `WITH fo AS (UPDATE folders SET trashed_at = NULL WHERE trash_id = $1)
			UPDATE files SET trashed_at = NULL WHERE trash_id = $1 AND owner_id = $2`, true},
		{"cte update with owner in outer only", `WITH fo AS (UPDATE folders SET x = 1 WHERE id = $1) SELECT owner_id FROM files WHERE owner_id = $2`, true},
		{"quota by user", `UPDATE quotas SET used_bytes = 0 WHERE user_id = $1`, false},
		{"quota without user", `UPDATE quotas SET used_bytes = 0`, true},
		{"queue row", `DELETE FROM object_deletions WHERE object_key = $1`, false},
		{"unknown table", `DELETE FROM users WHERE id = $1`, true},
		{"lock is not a change", `SELECT id FROM files WHERE id = $1 FOR UPDATE`, false},
		{"upsert without owner", `INSERT INTO grants (owner_id, x) VALUES ($1, $2) ON CONFLICT (x) DO UPDATE SET role = EXCLUDED.role`, true},
		{"upsert with owner where", `INSERT INTO grants (owner_id, x) VALUES ($1, $2) ON CONFLICT (x) DO UPDATE SET role = EXCLUDED.role WHERE grants.owner_id = EXCLUDED.owner_id`, false},
		{"upsert on the owner key", `INSERT INTO quotas (user_id) VALUES ($1) ON CONFLICT (user_id) DO UPDATE SET quota_bytes = 1`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problems, _ := ownerProblems(tt.sql)
			if got := len(problems) > 0; got != tt.bad {
				t.Errorf("rejected = %v, want %v (%v)", got, tt.bad, problems)
			}
		})
	}
}
