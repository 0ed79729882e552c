package iam

import (
	"fmt"
	"strings"
	"testing"

	"github.com/iamd/iamd/internal/policy"
)

// The embedded catalog must load, hold every policy the API promises, and
// resolve by path and name.
func TestAWSCatalog(t *testing.T) {
	cat, err := loadAWSCatalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, name, version string }{
		{"/", "AdministratorAccess", "v1"},
		{"/", "PowerUserAccess", "v12"},
		{"/", "ReadOnlyAccess", ""},
		{"/", "IAMFullAccess", "v2"},
		{"/", "IAMReadOnlyAccess", "v4"},
		{"/", "IAMUserChangePassword", "v3"},
		{"/", "IAMSelfManageServiceSpecificCredentials", "v1"},
		{"/", "IAMUserSSHKeys", "v1"},
		{"/", "SecurityAudit", ""},
		{"/", "AWSOrganizationsFullAccess", ""},
		{"/", "AWSOrganizationsReadOnlyAccess", ""},
		{"/", "AWSBillingReadOnlyAccess", ""},
		{"/job-function/", "Billing", ""},
		{"/job-function/", "ViewOnlyAccess", ""},
		{"/", "AmazonS3FullAccess", "v2"},
		{"/", "AmazonS3ReadOnlyAccess", "v3"},
		{"/", "AmazonEC2FullAccess", "v5"},
		{"/", "AmazonEC2ReadOnlyAccess", "v1"},
		{"/", "AWSCloudTrail_FullAccess", ""},
		{"/", "AWSCloudTrail_ReadOnlyAccess", "v1"},
		{"/root-task/", "IAMAuditRootUserCredentials", "v1"},
		{"/root-task/", "IAMCreateRootUserPassword", "v1"},
		{"/root-task/", "IAMDeleteRootUserCredentials", "v1"},
		{"/root-task/", "S3UnlockBucketPolicy", "v1"},
		{"/root-task/", "SQSUnlockQueuePolicy", "v1"},
		{"/service-role/", "AWSLambdaBasicExecutionRole", "v1"},
		{"/service-role/", "AWSLambdaVPCAccessExecutionRole", "v3"},
		{"/service-role/", "AWSLambdaSQSQueueExecutionRole", "v1"},
		{"/service-role/", "AWSLambdaDynamoDBExecutionRole", "v1"},
		{"/service-role/", "AWSLambdaKinesisExecutionRole", "v2"},
		{"/", "AmazonSSMManagedInstanceCore", "v2"},
		{"/", "AmazonEKSWorkerNodePolicy", "v3"},
		{"/", "AmazonEC2ContainerRegistryReadOnly", "v3"},
		{"/", "AmazonEKSClusterPolicy", "v9"},
		{"/", "AmazonEKS_CNI_Policy", "v5"},
		{"/", "AWSXRayDaemonWriteAccess", "v2"},
		{"/", "AmazonSQSReadOnlyAccess", "v4"},
		{"/", "AmazonSNSReadOnlyAccess", "v2"},
		{"/service-role/", "AmazonECSTaskExecutionRolePolicy", "v1"},
		{"/", "AmazonSSMReadOnlyAccess", "v1"},
		{"/", "AmazonEC2ContainerRegistryPowerUser", "v3"},
	} {
		p := cat.lookup(tc.path, tc.name)
		if p == nil {
			t.Errorf("%s%s missing", tc.path, tc.name)
			continue
		}
		if tc.version != "" && p.Version != tc.version {
			t.Errorf("%s: version %s, want %s", tc.name, p.Version, tc.version)
		}
		if !strings.HasPrefix(p.ID, "ANPA") || len(p.ID) != 21 {
			t.Errorf("%s: id %q", tc.name, p.ID)
		}
		if p.Updated.Before(p.Created) {
			t.Errorf("%s: updated before created", tc.name)
		}
	}
	if p := cat.lookup("/", "AdministratorAccess"); p.arn("aws-cn") != "arn:aws-cn:iam::aws:policy/AdministratorAccess" || p.ID != "ANPAIWMBCKSKIEE64ZLYK" {
		t.Errorf("AdministratorAccess: %s %s", p.arn("aws-cn"), p.ID)
	}
	if cat.lookup("/", "ViewOnlyAccess") != nil {
		t.Error("ViewOnlyAccess resolved outside /job-function/")
	}
	// after() walks the listing order.
	all := cat.after("")
	for i := 1; i < len(all); i++ {
		if key(all[i-1].Name) >= key(all[i].Name) {
			t.Fatalf("catalog not sorted at %s", all[i].Name)
		}
	}
	if got := cat.after(key(all[len(all)-2].Name)); len(got) != 1 {
		t.Errorf("after(second last) = %d entries", len(got))
	}
}

// Every entry, whatever its size, is a valid identity policy on its own, and
// carries metadata IAM can return: AWS managed documents are exempt from the
// customer managed size quota but not from the grammar.
func TestAWSCatalogEntries(t *testing.T) {
	cat, err := loadAWSCatalog()
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, p := range cat.sorted {
		if _, err := policy.Parse([]byte(p.doc), policy.Identity); err != nil {
			t.Errorf("%s%s: %v", p.Path, p.Name, err)
		}
		if p.Description == "" || p.Created.IsZero() || p.Updated.Before(p.Created) {
			t.Errorf("%s: description %q created %v updated %v", p.Name, p.Description, p.Created, p.Updated)
		}
		if other, dup := ids[p.ID]; dup {
			t.Errorf("%s and %s share id %s", p.Name, other, p.ID)
		}
		ids[p.ID] = p.Name
		if got := cat.lookup(p.Path, p.Name); got != p {
			t.Errorf("%s%s does not resolve to itself", p.Path, p.Name)
		}
	}
	if n := len(cat.sorted); n < 41 {
		t.Errorf("catalog holds %d policies, want at least 41", n)
	}
}

func TestParseAWSCatalogRejects(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	for name, in := range map[string]string{
		"not json":       `[`,
		"bad path":       `[{"name":"A","path":"x","version":"v1","document":` + doc + `}]`,
		"bad version":    `[{"name":"A","path":"/","version":"1","document":` + doc + `}]`,
		"duplicate":      `[{"name":"A","path":"/","version":"v1","document":` + doc + `},{"name":"a","path":"/x/","version":"v1","document":` + doc + `}]`,
		"bad document":   `[{"name":"A","path":"/","version":"v1","document":{"Statement":[]}}]`,
		"unnoted subset": `[{"name":"A","path":"/","version":"v1","subset":true,"document":` + doc + `}]`,
	} {
		if _, err := parseAWSCatalog([]byte(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := parseAWSCatalog([]byte(`[{"name":"A","path":"/","version":"v1","document":` + doc + `}]`)); err != nil {
		t.Errorf("valid catalog rejected: %v", err)
	}
	// AWS managed documents may exceed the 6,144-character customer managed
	// quota (ReadOnlyAccess is several times larger); only the grammar binds.
	actions := make([]string, 400)
	for i := range actions {
		actions[i] = fmt.Sprintf(`"service:LongActionName%04d"`, i)
	}
	big := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[` + strings.Join(actions, ",") + `],"Resource":"*"}]}`
	if policy.Size([]byte(big)) <= 6144 {
		t.Fatalf("test document only %d characters", policy.Size([]byte(big)))
	}
	if _, err := parseAWSCatalog([]byte(`[{"name":"Big","path":"/","version":"v1","document":` + big + `}]`)); err != nil {
		t.Errorf("large AWS managed document rejected: %v", err)
	}
}
