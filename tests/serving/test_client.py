"""serving.client answers the same over REST and gRPC, against the shared server."""
import grpc
import pytest

from serving import client
from tests.serving.conftest import MODEL

ROWS = [{"label": "short", "length": 4, "probabilities": [0.75, 0.25]},
        {"label": "long", "length": 12, "probabilities": [0.25, 0.75]}]


@pytest.mark.parametrize("protocol", ["rest", "grpc"])
def test_predict_over_either_protocol(served, protocol):
    port = served.port if protocol == "rest" else served.grpc_port
    assert client.predict(["hi", "héllo"], MODEL, port=port, protocol=protocol) == ROWS
    assert client.predict(["héllo"], MODEL, port=port, protocol=protocol, version=1)[0]["length"] == 6


def test_a_kept_client_reuses_its_connection(served):
    with client.Client(port=served.port) as rest, client.Client(port=served.grpc_port, protocol="grpc") as rpc:
        for _ in range(3):
            assert rest.predict(["hi"], MODEL) == rpc.predict(["hi"], MODEL) == ROWS[:1]


@pytest.mark.parametrize("protocol, status", [("rest", 404), ("grpc", grpc.StatusCode.NOT_FOUND)])
def test_refusals_raise_with_the_status(served, protocol, status):
    port = served.port if protocol == "rest" else served.grpc_port
    with pytest.raises(client.PredictError) as caught:
        client.predict(["a"], "nope", port=port, protocol=protocol)
    assert caught.value.status == status and "Servable not found for request: Latest(nope)" in str(caught.value)


def test_an_unknown_protocol_is_refused():
    with pytest.raises(ValueError, match="protocol must be one of"):
        client.Client(protocol="http")
