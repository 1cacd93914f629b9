#!/usr/bin/env bash
# Create the S3 bucket that holds the Terraform state of every We-Upload root (global, dev,
# prod). Run once per AWS account, with administrator credentials, before anything else:
#
#   AWS_REGION=eu-central-1 deploy/aws/bootstrap-state.sh
#
# Idempotent: re-running re-applies the settings. The bucket is not managed by Terraform (it
# must exist before Terraform can store state in it).
#   * versioned (every state version is kept; old versions expire after 90 days)
#   * SSE-KMS with the AWS-managed aws/s3 key and a bucket key (no key to manage or pay for;
#     any principal of the account that may read the object may decrypt it)
#   * all Block Public Access settings, ACLs disabled, TLS-only bucket policy
# Locking needs no DynamoDB table: the backends use S3-native lock files (use_lockfile = true).
set -euo pipefail

REGION=${AWS_REGION:?set AWS_REGION, e.g. eu-central-1}
ACCOUNT=$(aws sts get-caller-identity --query Account --output text)
BUCKET=${TF_STATE_BUCKET:-weupload-tfstate-$ACCOUNT}
export AWS_REGION AWS_DEFAULT_REGION=$REGION

echo "account $ACCOUNT, region $REGION, bucket $BUCKET"

if aws s3api head-bucket --bucket "$BUCKET" 2>/dev/null; then
  echo "bucket exists; re-applying its settings"
elif [ "$REGION" = us-east-1 ]; then
  aws s3api create-bucket --bucket "$BUCKET" >/dev/null
else
  aws s3api create-bucket --bucket "$BUCKET" \
    --create-bucket-configuration "LocationConstraint=$REGION" >/dev/null
fi

aws s3api put-public-access-block --bucket "$BUCKET" --public-access-block-configuration \
  BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
aws s3api put-bucket-ownership-controls --bucket "$BUCKET" \
  --ownership-controls 'Rules=[{ObjectOwnership=BucketOwnerEnforced}]'
aws s3api put-bucket-versioning --bucket "$BUCKET" --versioning-configuration Status=Enabled
aws s3api put-bucket-encryption --bucket "$BUCKET" --server-side-encryption-configuration \
  '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms"},"BucketKeyEnabled":true}]}'
aws s3api put-bucket-policy --bucket "$BUCKET" --policy "$(
  cat <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "DenyInsecureTransport",
      "Effect": "Deny",
      "Principal": "*",
      "Action": "s3:*",
      "Resource": ["arn:aws:s3:::$BUCKET", "arn:aws:s3:::$BUCKET/*"],
      "Condition": {"Bool": {"aws:SecureTransport": "false"}}
    }
  ]
}
JSON
)"
aws s3api put-bucket-lifecycle-configuration --bucket "$BUCKET" --lifecycle-configuration '{
  "Rules": [
    {"ID": "expire-old-state-versions", "Status": "Enabled", "Filter": {},
     "NoncurrentVersionExpiration": {"NoncurrentDays": 90},
     "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}
  ]
}'

cat <<EOF

State bucket ready. Use it in terraform/*/backend.hcl:
  bucket = "$BUCKET"
  region = "$REGION"
and as the GitHub repository variable TF_STATE_BUCKET=$BUCKET
EOF
