#!/usr/bin/env bash
# make-certs.sh — a local certificate authority and node certificates for Artery TLS
# (cluster-config/tls.conf). For local clusters, tests and trying the Kubernetes TLS setup; a real
# deployment should issue node certificates from its own PKI (e.g. cert-manager) instead.
#
#   scripts/make-certs.sh [-o DIR] [-d DAYS] NODE...
#
# Writes into DIR (default ./certs), all PKCS12, one password for every store:
#   ca.p12            the CA's private key — keep it off the nodes; reused when it already exists,
#                     so running the script again with new NODE names adds nodes to the same CA
#   ca.crt            the CA certificate (PEM)
#   truststore.p12    the CA certificate as the only trusted entry     -> R1_TLS_TRUSTSTORE
#   NODE.p12          NODE's key + certificate chain signed by the CA  -> R1_TLS_KEYSTORE
#   NODE.crt          the same chain as PEM (to inspect: openssl x509 -in NODE.crt -noout -text)
#   password          the store password (mode 600)                    -> R1_TLS_*_PASSWORD
# The password is $R1_TLS_PASSWORD if set, else the one already in DIR/password, else random.
#
# Keys are EC P-256, certificates SHA256withECDSA. Each node certificate carries the subject
# alternative names DNS:NODE, DNS:localhost and IP:127.0.0.1; tls.conf leaves hostname verification
# off (pod IPs are not known in advance), so the identity that counts is "signed by this CA".
# Only keytool (part of every JDK) is needed.
set -euo pipefail

usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }

out=certs
days=825
while getopts "o:d:h" opt; do
  case "$opt" in
    o) out="$OPTARG" ;;
    d) days="$OPTARG" ;;
    h) usage 0 ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
[[ $# -ge 1 ]] || { echo "make-certs: name at least one node" >&2; usage; }
for n in "$@"; do
  [[ "$n" =~ ^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]] || { echo "make-certs: bad node name '$n' (use a DNS name)" >&2; exit 2; }
done
command -v keytool >/dev/null || { echo "make-certs: keytool not found (it comes with the JDK)" >&2; exit 1; }

# keytool is a JVM: start it lean, it does a few milliseconds of work per call; its chatter is
# shown only when it fails
kt() {
  local log
  if ! log="$(keytool -J-XX:TieredStopAtLevel=1 -J-XX:+UseSerialGC -J-Xshare:auto "$@" 2>&1)"; then
    echo "make-certs: keytool $1 failed:" >&2; echo "$log" >&2; return 1
  fi
}

mkdir -p "$out"
umask 077
if [[ -n "${R1_TLS_PASSWORD:-}" ]]; then
  pass="$R1_TLS_PASSWORD"
elif [[ -s "$out/password" ]]; then
  pass="$(cat "$out/password")"
else
  pass="$(head -c 18 /dev/urandom | base64 | tr '+/' 'xy')"
fi
[[ ${#pass} -ge 6 ]] || { echo "make-certs: the password must have at least 6 characters (PKCS12)" >&2; exit 2; }
printf '%s' "$pass" > "$out/password"

if [[ ! -f "$out/ca.p12" ]]; then
  kt -genkeypair -alias r1-ca -keyalg EC -groupname secp256r1 -sigalg SHA256withECDSA \
     -dname "CN=r1-cluster local CA,O=r1-cluster" -validity "$days" \
     -ext bc:c=ca:true,pathlen:0 -ext ku:c=keyCertSign,cRLSign \
     -keystore "$out/ca.p12" -storetype PKCS12 -storepass "$pass" -noprompt
  echo "make-certs: new CA in $out/ca.p12" >&2
fi
kt -exportcert -rfc -alias r1-ca -keystore "$out/ca.p12" -storepass "$pass" -file "$out/ca.crt"
rm -f "$out/truststore.p12"
kt -importcert -alias r1-ca -file "$out/ca.crt" -keystore "$out/truststore.p12" -storetype PKCS12 \
   -storepass "$pass" -noprompt

for node in "$@"; do
  ks="$out/$node.p12"
  rm -f "$ks" "$out/$node.csr" "$out/$node.crt"
  kt -genkeypair -alias "$node" -keyalg EC -groupname secp256r1 -sigalg SHA256withECDSA \
     -dname "CN=$node,O=r1-cluster" -validity "$days" \
     -keystore "$ks" -storetype PKCS12 -storepass "$pass" -noprompt
  kt -certreq -alias "$node" -keystore "$ks" -storepass "$pass" -file "$out/$node.csr"
  # server and client: every Artery connection is mutually authenticated
  kt -gencert -rfc -alias r1-ca -keystore "$out/ca.p12" -storepass "$pass" -validity "$days" \
     -infile "$out/$node.csr" -outfile "$out/$node.crt" \
     -ext "san=dns:$node,dns:localhost,ip:127.0.0.1" -ext ku:c=digitalSignature,keyAgreement \
     -ext eku=serverAuth,clientAuth
  # the reply is the node certificate followed by the CA: keytool installs the whole chain
  cat "$out/ca.crt" >> "$out/$node.crt"
  kt -importcert -alias "$node" -file "$out/$node.crt" -keystore "$ks" -storepass "$pass" -noprompt
  rm -f "$out/$node.csr"
  echo "make-certs: $ks" >&2
done
