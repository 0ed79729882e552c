package account

import (
	"context"
	"errors"
	"time"

	"github.com/iamd/iamd/internal/awsproto"
	"github.com/iamd/iamd/internal/service"
	"github.com/iamd/iamd/internal/store"
)

// contactFields are ContactInformation's members, stored as given.
var contactFields = []string{"AddressLine1", "AddressLine2", "AddressLine3", "City", "CompanyName", "CountryCode", "DistrictOrCounty", "FullName", "PhoneNumber", "PostalCode", "StateOrRegion", "WebsiteUrl"}

// alternateFields are an alternate contact's members.
var alternateFields = []string{"EmailAddress", "Name", "PhoneNumber", "Title"}

func pick(m map[string]any, fields []string) map[string]string {
	out := map[string]string{}
	for _, f := range fields {
		if v := awsproto.Str(m, f); v != "" {
			out[f] = v
		}
	}
	return out
}

func toAny(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func now(c *service.Call) time.Time { return c.Now.UTC().Truncate(time.Second) }

func (s *Service) getContactInformation(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	id, err := target(ctx, s.Store, c, in, false)
	if err != nil {
		return nil, err
	}
	ci, _, err := getDoc[map[string]string](ctx, s.Store, id, kindContact, "primary")
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("No contact information found for account %s.", id)
	}
	if err != nil {
		return nil, err
	}
	return map[string]any{"ContactInformation": toAny(*ci)}, nil
}

func (s *Service) putContactInformation(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	ci := pick(awsproto.Struct(in, "ContactInformation"), contactFields)
	return nil, s.Store.WithTx(ctx, func(tx store.Tx) error {
		id, err := target(ctx, tx, c, in, false)
		if err != nil {
			return err
		}
		return putDoc(ctx, tx, id, kindContact, "primary", ci, now(c))
	})
}

func (s *Service) getAlternateContact(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	id, err := target(ctx, s.Store, c, in, false)
	if err != nil {
		return nil, err
	}
	typ := awsproto.Str(in, "AlternateContactType")
	ac, _, err := getDoc[map[string]string](ctx, s.Store, id, kindAlternate, typ)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("No contact of the inputted alternate contact type found.")
	}
	if err != nil {
		return nil, err
	}
	out := toAny(*ac)
	out["AlternateContactType"] = typ
	return map[string]any{"AlternateContact": out}, nil
}

func (s *Service) putAlternateContact(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	ac := pick(in, alternateFields)
	return nil, s.Store.WithTx(ctx, func(tx store.Tx) error {
		id, err := target(ctx, tx, c, in, false)
		if err != nil {
			return err
		}
		return putDoc(ctx, tx, id, kindAlternate, awsproto.Str(in, "AlternateContactType"), ac, now(c))
	})
}

func (s *Service) deleteAlternateContact(ctx context.Context, c *service.Call, in map[string]any) (map[string]any, error) {
	return nil, s.Store.WithTx(ctx, func(tx store.Tx) error {
		id, err := target(ctx, tx, c, in, false)
		if err != nil {
			return err
		}
		err = tx.Delete(ctx, id, kindAlternate, awsproto.Str(in, "AlternateContactType"))
		if errors.Is(err, store.ErrNotFound) {
			return notFound("No contact of the inputted alternate contact type found.")
		}
		return err
	})
}
