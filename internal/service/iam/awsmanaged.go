package iam

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/ids"
	"github.com/iamd/iamd/internal/policy"
)

// awsManagedJSON is the embedded catalog of AWS managed policies: each with
// the path, default version id, dates and document AWS publishes in the
// "AWS Managed Policy Reference Guide"
// (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/).
//
//go:embed awsmanaged/policies.json
var awsManagedJSON []byte

// awsManagedPolicy is one catalog entry. Only the default version is
// carried: ListPolicyVersions on an AWS managed policy lists that one.
type awsManagedPolicy struct {
	Name        string          `json:"name"`
	Path        string          `json:"path"`
	ID          string          `json:"id,omitempty"` // derived from the name when absent
	Description string          `json:"description"`
	Version     string          `json:"version"`
	Created     time.Time       `json:"created"`
	Updated     time.Time       `json:"updated"`
	Document    json.RawMessage `json:"document"`
	// Subset marks a document that is a faithful subset of a policy too
	// large to embed whole (ReadOnlyAccess, SecurityAudit...).
	Subset bool   `json:"subset,omitempty"`
	Note   string `json:"note,omitempty"` // what of a subset entry is unverified

	doc string // Document, indented as IAM returns AWS managed documents
}

// arn is the policy's ARN in a partition.
func (p *awsManagedPolicy) arn(partition string) string {
	return arn.IAM(partition, "aws", "policy"+p.Path+p.Name)
}

// awsCatalog indexes the embedded catalog. It is built once and never
// changed afterwards.
type awsCatalog struct {
	sorted []*awsManagedPolicy          // by lower-cased name: the listing order
	byKey  map[string]*awsManagedPolicy // path+name, lower-cased
}

var loadAWSCatalog = sync.OnceValues(func() (*awsCatalog, error) {
	return parseAWSCatalog(awsManagedJSON)
})

// parseAWSCatalog decodes and validates a catalog: every document must be a
// valid identity policy, names unique, paths well formed.
func parseAWSCatalog(b []byte) (*awsCatalog, error) {
	var list []*awsManagedPolicy
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("iam: aws managed catalog: %w", err)
	}
	cat := &awsCatalog{byKey: map[string]*awsManagedPolicy{}}
	names := map[string]bool{}
	for _, p := range list {
		if p.Name == "" || !strings.HasPrefix(p.Path, "/") || !strings.HasSuffix(p.Path, "/") || !strings.HasPrefix(p.Version, "v") {
			return nil, fmt.Errorf("iam: aws managed catalog: bad entry %q", p.Name)
		}
		if names[key(p.Name)] {
			return nil, fmt.Errorf("iam: aws managed catalog: duplicate %q", p.Name)
		}
		names[key(p.Name)] = true
		var buf bytes.Buffer
		if err := json.Indent(&buf, p.Document, "", "  "); err != nil {
			return nil, fmt.Errorf("iam: aws managed catalog: %s: %w", p.Name, err)
		}
		p.doc = buf.String()
		if _, err := policy.Parse([]byte(p.doc), policy.Identity); err != nil {
			return nil, fmt.Errorf("iam: aws managed catalog: %s: %w", p.Name, err)
		}
		if p.Subset && p.Note == "" {
			return nil, fmt.Errorf("iam: aws managed catalog: %s: subset without a note", p.Name)
		}
		if p.ID == "" {
			p.ID = awsManagedID(p.Path + p.Name)
		}
		cat.byKey[key(p.Path+p.Name)] = p
		cat.sorted = append(cat.sorted, p)
	}
	sort.Slice(cat.sorted, func(i, j int) bool { return key(cat.sorted[i].Name) < key(cat.sorted[j].Name) })
	return cat, nil
}

// awsManagedID derives a stable ANPA… id for a catalog entry without one:
// the same in every account and every run, as AWS's ids are.
func awsManagedID(pathName string) string {
	sum := sha256.Sum256([]byte("aws-managed-policy:" + pathName))
	return ids.AWSManagedPolicy + base32.StdEncoding.EncodeToString(sum[:])[:17]
}

// lookup finds an entry by path and name.
func (c *awsCatalog) lookup(path, name string) *awsManagedPolicy {
	return c.byKey[key(path+name)]
}

// after returns the entries whose listing key is greater than k.
func (c *awsCatalog) after(k string) []*awsManagedPolicy {
	i := sort.Search(len(c.sorted), func(i int) bool { return key(c.sorted[i].Name) > k })
	return c.sorted[i:]
}
