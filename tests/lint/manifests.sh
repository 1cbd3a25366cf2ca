#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# make check: the Kubernetes manifests pass yamllint and carry every field
# the deployment needs (scripts/check-manifests says which, and why).
exec "$srcdir/scripts/check-manifests" "$srcdir/deploy/kubernetes"
