package authz_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/principal"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/testenv"
)

// TestContextTemplatePerPrincipal: the per-principal context template is
// shared only by requests of the same principal. A user and a federated
// session of that user share compiled policies but not aws:username, and
// each request still sees its own time, source IP and session tags.
func TestContextTemplatePerPrincipal(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	admin := env.AdminIAM()
	u, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("tpl"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}})
	if err != nil {
		t.Fatal(err)
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"*","Condition":{
		"StringEquals":{"aws:username":"tpl","aws:PrincipalTag/team":"blue"},
		"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},
		"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}}]}`
	if _, err := admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("tpl"), PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	user := &principal.Principal{Type: principal.User, Partition: "aws", Account: env.Account, ARN: aws.ToString(u.User.Arn),
		UserID: aws.ToString(u.User.UserId), Name: "tpl", Path: "/"}
	fed := &principal.Principal{Type: principal.FederatedUser, Partition: "aws", Account: env.Account,
		ARN: "arn:aws:sts::" + env.Account + ":federated-user/tpl", UserID: env.Account + ":tpl", Name: "tpl", SourceUser: "tpl", Temporary: true}
	fedTagged := *fed
	fedTagged.SessionTags = map[string]string{"team": "red"}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	op := awsproto.LookupService("iam").Operation("GetUser")
	cases := []struct {
		name  string
		p     *principal.Principal
		ip    string
		now   time.Time
		allow bool
	}{
		{"user", user, "10.1.1.1", now, true},
		{"user from outside the range", user, "192.0.2.1", now, false},
		{"user again", user, "10.2.2.2", now, true},
		{"user after the date", user, "10.1.1.1", time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"federated session has no aws:username", fed, "10.1.1.1", now, false},
		{"user after the federated session", user, "10.1.1.1", now, true},
		{"session tags override principal tags", &fedTagged, "10.1.1.1", now, false},
		{"user last", user, "10.1.1.1", now, true},
	}
	for _, tc := range cases {
		c := &service.Call{RequestID: "r", Service: "iam", Operation: "GetUser", Region: "us-east-1", Partition: "aws",
			Account: env.Account, Principal: tc.p, Now: tc.now, SourceIP: netip.MustParseAddr(tc.ip)}
		err := env.App.Authz.Authorize(ctx, c, op, map[string]any{"UserName": "tpl"})
		if (err == nil) != tc.allow {
			t.Errorf("%s: err = %v, want allowed %v", tc.name, err, tc.allow)
		}
	}
}
