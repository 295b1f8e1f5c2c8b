package results

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"fhirlink/server"
)

// S3 is a [Store] in a bucket of an S3-compatible object store, shared by
// every server node. It uses the MinIO Go client (github.com/minio/minio-go),
// which speaks the S3 API to any compatible service. Credentials come from
// S3Config or, when those are empty, from the environment
// (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or MINIO_ROOT_USER /
// MINIO_ROOT_PASSWORD) or the instance's IAM role.
//
// An object is uploaded as it is written, through a pipe: the client holds
// at most one part (PartSize) of it in memory, and a page (about 1 MB)
// goes up in a single request. Expiry is the server's janitor's job; a
// bucket lifecycle rule deleting objects under the prefix after a few days
// is a good backstop.
type S3 struct {
	client *minio.Client
	bucket string
	prefix string
}

// S3Config locates the bucket.
type S3Config struct {
	// Endpoint is host[:port] of the service.
	Endpoint string
	// Insecure uses plain HTTP (a local test service only).
	Insecure bool
	Region   string
	Bucket   string
	// Prefix is prepended to every key, so one bucket may serve several
	// deployments.
	Prefix               string
	AccessKey, SecretKey string
	// Transport, when set, carries the requests (tests).
	Transport http.RoundTripper
}

// PartSize is the part size of uploads of unknown length: the most an
// upload holds in memory.
const PartSize = 5 << 20

// NewS3 returns the store in cfg's bucket, which must exist.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, errors.New("object storage: endpoint and bucket are required")
	}
	creds := credentials.NewChainCredentials([]credentials.Provider{
		&credentials.EnvAWS{}, &credentials.EnvMinio{}, &credentials.IAM{},
	})
	if cfg.AccessKey != "" {
		creds = credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{Creds: creds, Secure: !cfg.Insecure, Region: cfg.Region, Transport: cfg.Transport})
	if err != nil {
		return nil, fmt.Errorf("object storage: %w", err)
	}
	ok, err := client.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("object storage: bucket %s: %w", cfg.Bucket, err)
	}
	if !ok {
		return nil, fmt.Errorf("object storage: bucket %s does not exist", cfg.Bucket)
	}
	return &S3{client: client, bucket: cfg.Bucket, prefix: strings.Trim(cfg.Prefix, "/")}, nil
}

func (s *S3) name(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	if s.prefix == "" {
		return key, nil
	}
	return s.prefix + "/" + key, nil
}

// Create implements [Store].
func (s *S3) Create(ctx context.Context, key string) (Writer, error) {
	name, err := s.name(key)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	w := &s3Writer{pw: pw, done: make(chan error, 1)}
	go func() {
		_, err := s.client.PutObject(ctx, s.bucket, name, pr, -1,
			minio.PutObjectOptions{ContentType: "application/x-ndjson", PartSize: PartSize})
		pr.CloseWithError(err) // unblocks a writer if the upload failed
		w.done <- err
	}()
	return w, nil
}

type s3Writer struct {
	pw     *io.PipeWriter
	done   chan error
	closed bool
}

func (w *s3Writer) Write(p []byte) (int, error) { return w.pw.Write(p) }

func (w *s3Writer) Close() error {
	if w.closed {
		return errors.New("result writer already closed")
	}
	w.closed = true
	w.pw.Close()
	return <-w.done
}

func (w *s3Writer) Abort() {
	if w.closed {
		return
	}
	w.closed = true
	w.pw.CloseWithError(errors.New("upload aborted"))
	<-w.done // the client aborts a multipart upload it had begun
}

// Open implements [Store].
func (s *S3) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	name, err := s.name(key)
	if err != nil {
		return nil, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, name, minio.GetObjectOptions{})
	if err == nil {
		_, err = obj.Stat() // GetObject is lazy: this asks
	}
	if err != nil {
		if obj != nil {
			obj.Close()
		}
		if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
			return nil, server.Errorf(server.ENOTFOUND, "result %s not found", key)
		}
		return nil, err
	}
	return obj, nil
}

// Delete implements [Store].
func (s *S3) Delete(ctx context.Context, prefix string) error {
	name, err := s.name(prefix)
	if err != nil {
		return err
	}
	objects := s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: name + "/", Recursive: true})
	for e := range s.client.RemoveObjects(ctx, s.bucket, objects, minio.RemoveObjectsOptions{}) {
		if e.Err != nil {
			return e.Err
		}
	}
	err = s.client.RemoveObject(ctx, s.bucket, name, minio.RemoveObjectOptions{})
	if err != nil && minio.ToErrorResponse(err).Code != minio.NoSuchKey {
		return err
	}
	return nil
}
