package fs

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/ftpmount/ftpmount/"

// layers says which packages of this module each package (its non-test files) may import:
// imports run cmd → fs → core → cache → ftpconn, and only fs knows FUSE. cmd also builds the
// ftpconn client it hands to fs.Mount.
var layers = map[string][]string{
	"cmd/ftpmount": {"fs", "ftpconn"},      // ftpconn: it dials the client that fs serves
	"fs":           {"fs/core", "ftpconn"}, // ftpconn only for types and error kinds (TestFsUsesOnlyFtpconnTypes)
	"fs/core":      {"cache", "ftpconn"},
	"cache":        {"ftpconn"},
	"ftpconn":      {},
}

// imports are the import paths of the non-test Go files in dir (relative to the module root).
func imports(t *testing.T, dir string) (map[string]bool, []*ast.File) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	var asts []*ast.File
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		asts = append(asts, af)
		for _, im := range af.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			out[p] = true
		}
	}
	if len(asts) == 0 {
		t.Fatalf("no Go files in %s", dir)
	}
	return out, asts
}

func TestImportsRunOneWay(t *testing.T) {
	for pkg, allowed := range layers {
		ims, _ := imports(t, pkg)
		for im := range ims {
			if strings.Contains(im, "go-fuse") && pkg != "fs" {
				t.Errorf("%s imports %s: only fs knows FUSE", pkg, im)
			}
			rel, ok := strings.CutPrefix(im, module)
			if ok && !slices.Contains(allowed, rel) {
				t.Errorf("%s imports %s; it may import only %q of this module", pkg, rel, allowed)
			}
		}
	}
}

// ftpconnTypes are the names fs may use from ftpconn: types, entry kinds and error kinds. A
// call into the client (ftpconn.Dial, a listing parser...) goes through fs/core instead.
var ftpconnTypes = regexp.MustCompile(`^(Entry|EntryType|Type[A-Z]\w*|Reader|Client|Err[A-Z]\w*)$`)

func TestFsUsesOnlyFtpconnTypes(t *testing.T) {
	_, files := imports(t, "fs")
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == "ftpconn" && !ftpconnTypes.MatchString(sel.Sel.Name) {
				t.Errorf("fs uses ftpconn.%s: only types and error kinds (%s)", sel.Sel.Name, ftpconnTypes)
			}
			return true
		})
	}
}
