package iam

import (
	"context"
	"errors"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
)

// loader reads the one entity of type T a request names, answering IAM's
// NoSuchEntity, worded for that kind of entity, when there is none.
type loader[T any] func(ctx context.Context, r store.Reader, c *service.Call, in map[string]any) (*T, store.Record, error)

// byName makes a loader from a lookup by name and the request member that
// holds the name.
func byName[T any](field string, load func(ctx context.Context, r store.Reader, account, name string) (*T, store.Record, error)) loader[T] {
	return func(ctx context.Context, r store.Reader, c *service.Call, in map[string]any) (*T, store.Record, error) {
		return load(ctx, r, c.Account, awsproto.Str(in, field))
	}
}

// Loaders of the entities requests name by a single member.
var (
	userIn       = byName("UserName", loadUser)
	roleIn       = byName("RoleName", loadRole)
	profileIn    = byName("InstanceProfileName", loadInstanceProfile)
	serverCertIn = byName("ServerCertificateName", loadServerCert)
	mfaIn        = byName("SerialNumber", loadMFA)
)

// indexed is a document whose record's index columns derive from it; modify
// keeps them in step with the document.
type indexed interface{ index(rec *store.Record) }

// modify loads the entity load finds, lets fn change it and stores it, in one
// transaction, and returns it as stored.
func modify[T any](ctx context.Context, st store.Store, c *service.Call, in map[string]any, load loader[T], fn func(tx store.Tx, v *T) error) (*T, error) {
	var out *T
	err := st.WithTx(ctx, func(tx store.Tx) error {
		v, rec, err := load(ctx, tx, c, in)
		if err != nil {
			return err
		}
		if err := fn(tx, v); err != nil {
			return err
		}
		rec.Data, rec.Updated = encode(v), now(c)
		if ix, ok := any(v).(indexed); ok {
			ix.index(&rec)
		}
		out = v
		return tx.Update(ctx, rec)
	})
	return out, err
}

// remove deletes the entity load finds, in one transaction.
func remove[T any](ctx context.Context, st store.Store, c *service.Call, in map[string]any, load loader[T]) error {
	return st.WithTx(ctx, func(tx store.Tx) error {
		_, rec, err := load(ctx, tx, c, in)
		if err != nil {
			return err
		}
		return tx.Delete(ctx, rec.Account, rec.Kind, rec.Key)
	})
}

// tagged is an entity document that carries IAM tags.
type tagged interface{ tagList() *[]Tag }

func (u *User) tagList() *[]Tag            { return &u.Tags }
func (r *Role) tagList() *[]Tag            { return &r.Tags }
func (p *InstanceProfile) tagList() *[]Tag { return &p.Tags }
func (mp *ManagedPolicy) tagList() *[]Tag  { return &mp.Tags }
func (p *OIDCProvider) tagList() *[]Tag    { return &p.Tags }
func (p *SAMLProvider) tagList() *[]Tag    { return &p.Tags }
func (sc *ServerCert) tagList() *[]Tag     { return &sc.Tags }
func (d *MFADevice) tagList() *[]Tag       { return &d.Tags }

// tagHandlers registers TagX, UntagX and ListXTags for every taggable kind
// of entity; X is the noun IAM's operation names use.
func (s *Service) tagHandlers(m map[string]service.Handler) {
	addTagging(m, s, "User", userIn, nil)
	addTagging(m, s, "Role", roleIn, nil)
	addTagging(m, s, "InstanceProfile", profileIn, nil)
	// AWS managed policies cannot be tagged, but listing their tags succeeds.
	addTagging(m, s, "Policy", s.localPolicyIn, s.anyPolicyIn)
	addTagging(m, s, "OpenIDConnectProvider", loadOIDCByARN, nil)
	addTagging(m, s, "SAMLProvider", loadSAMLByARN, nil)
	addTagging(m, s, "ServerCertificate", serverCertIn, nil)
	addTagging(m, s, "MFADevice", mfaIn, nil)
}

// addTagging registers the tag operations of one kind of entity: load finds
// the entity to tag or untag; read, when not nil, finds it for listing.
func addTagging[T any, P interface {
	*T
	tagged
}](m map[string]service.Handler, s *Service, noun string, load, read loader[T]) {
	if read == nil {
		read = load
	}
	m["Tag"+noun] = func(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
		tags, err := tagsIn(in)
		if err != nil {
			return nil, err
		}
		_, err = modify(ctx, s.Store, c, in, load, func(_ store.Tx, v *T) error {
			l := P(v).tagList()
			merged, err := mergeTags(*l, tags)
			*l = merged
			return err
		})
		return map[string]any{}, err
	}
	m["Untag"+noun] = func(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
		_, err := modify(ctx, s.Store, c, in, load, func(_ store.Tx, v *T) error {
			l := P(v).tagList()
			*l = removeTags(*l, in)
			return nil
		})
		return map[string]any{}, err
	}
	m["List"+noun+"Tags"] = func(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
		v, _, err := read(ctx, s.Store, c, in)
		if err != nil {
			return nil, err
		}
		return paginateTags(*P(v).tagList(), in)
	}
}

// Users and roles index their permissions boundary as Ref, so boundary uses
// are counted and listed by index.
func (u *User) index(rec *store.Record) { rec.Ref = u.Boundary }
func (r *Role) index(rec *store.Record) { rec.Ref = r.Boundary }

// ownedBy loads record id of kind and checks that it is stored under parent
// (a user key, or rootOwner); missing is IAM's error when it is not there or
// belongs to someone else, so callers cannot probe other users' ids.
func ownedBy[T any](ctx context.Context, r store.Reader, account, kind, id, parent string, missing error) (*T, store.Record, error) {
	v, rec, err := get[T](ctx, r, account, kind, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && rec.Parent != parent) {
		return nil, rec, missing
	}
	return v, rec, err
}

// ownedCredIn makes the loader of a credential of kind that belongs to the
// owner keyOwner finds (a user, or the calling root user), by the id in the
// request member idField; noun words IAM's NoSuchEntity.
func ownedCredIn[T any](kind, idField, noun string) loader[T] {
	return func(ctx context.Context, r store.Reader, c *service.Call, in map[string]any) (*T, store.Record, error) {
		user, root, err := keyOwner(c, in)
		if err != nil {
			return nil, store.Record{}, err
		}
		parent, err := ownerParent(ctx, r, c, user, root)
		if err != nil {
			return nil, store.Record{}, err
		}
		id := awsproto.Str(in, idField)
		return ownedBy[T](ctx, r, c.Account, kind, id, parent, apierr.New(apierr.NoSuchEntity, "The %s with id %s cannot be found.", noun, id))
	}
}

var (
	accessKeyIn   = ownedCredIn[AccessKey](kindAccessKey, "AccessKeyId", "Access Key")
	signingCertIn = ownedCredIn[SigningCert](kindSigningCert, "CertificateId", "Certificate")
)

// statused is a credential document with an Active/Inactive status.
type statused interface{ setStatus(status string) }

func (k *AccessKey) setStatus(status string)    { k.Status = status }
func (sc *SigningCert) setStatus(status string) { sc.Status = status }
func (k *SSHKey) setStatus(status string)       { k.Status = status }
func (sc *ServiceCred) setStatus(status string) { sc.Status = status }

// updateStatus is the handler of an UpdateX operation that sets the Status of
// the credential load finds.
func updateStatus[T any, P interface {
	*T
	statused
}](s *Service, load loader[T]) service.Handler {
	return func(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
		_, err := modify(ctx, s.Store, c, in, load, func(_ store.Tx, v *T) error {
			P(v).setStatus(awsproto.Str(in, "Status"))
			return nil
		})
		return map[string]any{}, err
	}
}

// deleteHandler is the handler of a DeleteX operation that needs nothing
// checked beyond finding the entity.
func deleteHandler[T any](s *Service, load loader[T]) service.Handler {
	return func(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
		return map[string]any{}, remove(ctx, s.Store, c, in, load)
	}
}

// byParent and byRef are the indexed queries for records of kind under a
// parent or referring to ref.
func byParent(account, kind, parent string) store.ListQuery {
	return store.ListQuery{Account: account, Kind: kind, Parent: &parent}
}

func byRef(account, kind, ref string) store.ListQuery {
	return store.ListQuery{Account: account, Kind: kind, Ref: &ref}
}

// conflict is a set of records that must be gone before an entity can be
// deleted, with IAM's message while any is left.
type conflict struct {
	q   store.ListQuery
	msg string
}

// policyConflicts are the inline policies and attachments of owner (a
// user, group or role), in the order IAM checks them.
func policyConflicts(account, owner string) []conflict {
	return []conflict{
		{byParent(account, kindInline, owner), "Cannot delete entity, must delete policies first."},
		{byParent(account, kindAttachment, owner), "Cannot delete entity, must detach all policies first."},
	}
}

// checkConflicts answers DeleteConflict for the first of list that still
// has records, so the caller hears of them in IAM's order.
func checkConflicts(ctx context.Context, r store.Reader, list ...conflict) error {
	for _, dc := range list {
		n, err := r.Count(ctx, dc.q)
		if err != nil {
			return err
		}
		if n > 0 {
			return apierr.New(apierr.DeleteConflict, "%s", dc.msg)
		}
	}
	return nil
}

// decodeAll decodes each record as T and maps it with fn.
func decodeAll[T any](recs []store.Record, fn func(v *T) any) ([]any, error) {
	list := make([]any, 0, len(recs))
	for _, rec := range recs {
		v, err := decode[T](rec)
		if err != nil {
			return nil, err
		}
		list = append(list, fn(v))
	}
	return list, nil
}

// listOut answers a paginated List operation: the page of q the request's
// Marker and MaxItems select, each record decoded as T and mapped by fn into
// the member field.
func listOut[T any](ctx context.Context, r store.Reader, q store.ListQuery, in map[string]any, field string, fn func(v *T) any) (map[string]any, error) {
	p, err := listPage(ctx, r, q, in)
	if err != nil {
		return nil, err
	}
	list, err := decodeAll(p.recs, fn)
	if err != nil {
		return nil, err
	}
	return p.out(map[string]any{field: list}), nil
}

// applyRename applies an UpdateX request's NewPath and new name (the member
// newNameField), where given, to an entity's name and path.
func applyRename(in map[string]any, newNameField string, name, path *string) {
	if p := awsproto.Str(in, "NewPath"); p != "" {
		*path = p
	}
	if n := awsproto.Str(in, newNameField); n != "" {
		*name = n
	}
}

// saveRenamed stores v, loaded as rec, after an UpdateX that may have changed
// its name and path. IAM names are keys, so a new name deletes the record and
// inserts it again under the new key; exists is the answer when that name is
// taken. It returns the key the entity had, for moving the records that
// refer to it.
func saveRenamed(ctx context.Context, tx store.Tx, c *service.Call, rec store.Record, v any, name, path string, exists error) (oldKey string, err error) {
	oldKey = rec.Key
	rec.Key, rec.Path, rec.Data, rec.Updated = key(name), path, encode(v), now(c)
	if ix, ok := v.(indexed); ok {
		ix.index(&rec)
	}
	if rec.Key == oldKey {
		return oldKey, tx.Update(ctx, rec)
	}
	if err := tx.Delete(ctx, rec.Account, rec.Kind, oldKey); err != nil {
		return oldKey, err
	}
	rec.Version = 0 // a new record to the store
	if err := tx.Insert(ctx, rec); errors.Is(err, store.ErrConflict) {
		return oldKey, exists
	} else if err != nil {
		return oldKey, err
	}
	return oldKey, nil
}

// checkQuota answers exceeded when q already counts limit records.
func checkQuota(ctx context.Context, r store.Reader, q store.ListQuery, limit int, exceeded error) error {
	n, err := r.Count(ctx, q)
	if err != nil {
		return err
	}
	if n >= limit {
		return exceeded
	}
	return nil
}

// createCounted inserts rec in one transaction unless q already counts
// limit records (exceeded) or rec's key or id is taken (exists): every
// create with an account quota.
func createCounted(ctx context.Context, st store.Store, q store.ListQuery, limit int, exceeded error, rec store.Record, exists error) error {
	return st.WithTx(ctx, func(tx store.Tx) error {
		if err := checkQuota(ctx, tx, q, limit, exceeded); err != nil {
			return err
		}
		return insertNew(ctx, tx, rec, exists)
	})
}

// insertNew inserts rec, answering exists when its key or id is taken.
func insertNew(ctx context.Context, tx store.Tx, rec store.Record, exists error) error {
	err := tx.Insert(ctx, rec)
	if errors.Is(err, store.ErrConflict) {
		return exists
	}
	return err
}

// linkTarget picks the key of the entity a link record (a group membership,
// an instance profile's role) points to: its Parent or its Ref.
type linkTarget func(link store.Record) string

func linkParent(link store.Record) string { return link.Parent }
func linkRef(link store.Record) string    { return link.Ref }

// followLinks reads the entity of kind each link points to and maps it with
// fn. An entity deleted since the link was read is left out: deletes refuse
// linked entities, so that is only a race with an unlink.
func followLinks[T any](ctx context.Context, r store.Reader, account, kind string, links []store.Record, target linkTarget, fn func(v *T) (any, error)) ([]any, error) {
	list := make([]any, 0, len(links))
	for _, l := range links {
		v, _, err := get[T](ctx, r, account, kind, target(l))
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		m, err := fn(v)
		if err != nil {
			return nil, err
		}
		list = append(list, m)
	}
	return list, nil
}

// withTags adds tags to an output structure as its Tags member, which IAM
// leaves out when there are none.
func withTags(m map[string]any, tags []Tag) {
	if len(tags) > 0 {
		m["Tags"] = tagsOut(tags)
	}
}

// linkedOut is listOut over link records: the page of links q selects, each
// mapped by fn from the entity of kind it points to.
func linkedOut[T any](ctx context.Context, r store.Reader, q store.ListQuery, in map[string]any, kind string, target linkTarget, field string, fn func(v *T) (any, error)) (map[string]any, error) {
	p, err := listPage(ctx, r, q, in)
	if err != nil {
		return nil, err
	}
	list, err := followLinks(ctx, r, q.Account, kind, p.recs, target, fn)
	if err != nil {
		return nil, err
	}
	return p.out(map[string]any{field: list}), nil
}
