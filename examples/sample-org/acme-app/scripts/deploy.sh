#!/bin/sh
# deploys the billing service; run from a laptop
export AWS_ACCESS_KEY_ID=AKIAUEQ6IFSGBEIND2QG
export AWS_SECRET_ACCESS_KEY=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
aws s3 sync ./build s3://billing-artifacts/
