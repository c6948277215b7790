"""moto's server, answering MSK's GetBootstrapBrokers too.

moto models MSK clusters (CreateCluster, DescribeCluster, ...) but not
GetBootstrapBrokers. This runs moto's own server with that one operation
added, answered the way MSK answers it: one broker string for each listener
the cluster's encryption and client authentication turn on, each listing
`b-N.<cluster name>.<id>.c1.kafka.<region>.amazonaws.com:<port>` for its
brokers (plaintext 9092, TLS 9094, SASL/SCRAM 9096, SASL/IAM 9098).

Usage: python moto_msk_server.py PORT
"""

import json
import sys
from urllib.parse import unquote

from moto.kafka.exceptions import NotFoundException
from moto.kafka.responses import KafkaResponse
from moto.server import main

PORTS = {"plain": 9092, "tls": 9094, "scram": 9096, "iam": 9098}


def _brokers(cluster, port):
    short = cluster.cluster_id.split("-")[0][:6]
    hosts = [
        f"b-{n}.{cluster.cluster_name}.{short}.c1.kafka.{cluster.region_name}.amazonaws.com:{port}"
        for n in range(1, (cluster.number_of_broker_nodes or 1) + 1)
    ]
    return ",".join(hosts)


def get_bootstrap_brokers(self):
    path = unquote(self.parsed_url.path)
    arn = path.split("/clusters/", 1)[1].rsplit("/bootstrap-brokers", 1)[0]
    cluster = self.kafka_backend.clusters.get(arn)
    if cluster is None:
        raise NotFoundException(f"Cluster {arn} not found")
    auth = cluster.client_authentication or {}
    sasl = auth.get("sasl") or {}
    in_transit = (cluster.encryption_info or {}).get("encryptionInTransit") or {}
    client_broker = in_transit.get("clientBroker", "TLS")
    unauthenticated = (auth.get("unauthenticated") or {}).get("enabled", not auth)
    out = {}
    if client_broker in ("PLAINTEXT", "TLS_PLAINTEXT") and unauthenticated:
        out["BootstrapBrokerString"] = _brokers(cluster, PORTS["plain"])
    if client_broker in ("TLS", "TLS_PLAINTEXT") and (
        unauthenticated or (auth.get("tls") or {}).get("enabled")
        or (auth.get("tls") or {}).get("certificateAuthorityArnList")
    ):
        out["BootstrapBrokerStringTls"] = _brokers(cluster, PORTS["tls"])
    if (sasl.get("scram") or {}).get("enabled"):
        out["BootstrapBrokerStringSaslScram"] = _brokers(cluster, PORTS["scram"])
    if (sasl.get("iam") or {}).get("enabled"):
        out["BootstrapBrokerStringSaslIam"] = _brokers(cluster, PORTS["iam"])
    return json.dumps({k[0].lower() + k[1:]: v for k, v in out.items()})


KafkaResponse.get_bootstrap_brokers = get_bootstrap_brokers

if __name__ == "__main__":
    main(["--host", "127.0.0.1", "--port", sys.argv[1]])
