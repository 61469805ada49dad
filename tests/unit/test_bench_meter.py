"""The cost meter of `make bench` (bench/meter.py) counts requests and capacity units as DynamoDB and
SQS bill them: known item sizes against moto in-process, no timing."""
from __future__ import annotations

import pytest

from bench import meter as m

TABLE = "bench-meter"


def test_item_size_follows_dynamodbs_rules():
    # names and string values in UTF-8 bytes, numbers by significant digits, lists and maps 3 + 1 each
    assert m.item_size({"PK": {"S": "abc"}}) == 2 + 3
    assert m.item_size({"n": {"N": "12345"}}) == 1 + 4
    assert m.item_size({"ä": {"S": "ö"}}) == 2 + 2
    assert m.item_size({"l": {"L": [{"S": "ab"}, {"BOOL": True}]}}) == 1 + 3 + (2 + 1) + (1 + 1)
    assert m.write_units(1024) == 1 and m.write_units(1025) == 2 and m.write_units(0) == 1
    assert m.read_units(4096, consistent=False) == 0.5 and m.read_units(4097, consistent=True) == 2


@pytest.fixture
def metered(aws_env):
    import boto3
    from moto import mock_aws

    with mock_aws():
        meter = m.Meter().install()
        try:
            ddb = boto3.client("dynamodb", region_name="eu-west-1")
            ddb.create_table(
                TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("PK", "SK", "G")],
                KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
                GlobalSecondaryIndexes=[{"IndexName": "byG", "KeySchema": [{"AttributeName": "G", "KeyType": "HASH"}],
                                         "Projection": {"ProjectionType": "ALL"}}])
            meter.recording = True
            yield meter, ddb
            assert not [k for k in meter.tally.errors if k[0] == "meter"], meter.tally.errors
        finally:
            meter.uninstall()


def _item(pk: str, pad: int, **extra) -> dict:
    return {"PK": {"S": pk}, "SK": {"S": "x"}, "pad": {"S": "p" * pad}, **extra}


def test_a_put_of_known_size_is_one_request_and_its_write_units(metered):
    meter, ddb = metered
    # Given a 1,500-byte item (2 KB started) outside every index
    ddb.put_item(TableName=TABLE, Item=_item("a", 1500 - 2 - 1 - 2 - 1 - 3))
    # Then one PutItem, 2 WCU, both on the item's partition key
    assert meter.tally.requests[("app", "dynamodb", "PutItem")] == 1
    assert meter.tally.wcu["PutItem"] == 2
    assert meter.tally.key_wcu[("table", "a")] == 2


def test_an_indexed_item_pays_its_index_entry_and_a_key_change_pays_two(metered):
    meter, ddb = metered
    ddb.put_item(TableName=TABLE, Item=_item("a", 10, G={"S": "hot"}))
    assert meter.tally.wcu["PutItem"] == 2 and meter.tally.key_wcu[("byG", "hot")] == 1
    # moving the item to another index key deletes one entry and puts another
    ddb.update_item(TableName=TABLE, Key={"PK": {"S": "a"}, "SK": {"S": "x"}}, UpdateExpression="SET G = :g",
                    ExpressionAttributeValues={":g": {"S": "cold"}})
    assert meter.tally.wcu["UpdateItem"] == 3
    assert meter.tally.key_wcu[("byG", "hot")] == 2 and meter.tally.key_wcu[("byG", "cold")] == 1


def test_a_transaction_pays_double_and_a_refused_condition_still_pays(metered):
    meter, ddb = metered
    ddb.transact_write_items(TransactItems=[{"Put": {"TableName": TABLE, "Item": _item(pk, 10)}} for pk in "ab"])
    assert meter.tally.wcu["TransactWriteItems"] == 4
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
        ddb.put_item(TableName=TABLE, Item=_item("a", 10), ConditionExpression="attribute_not_exists(PK)")
    assert meter.tally.wcu["PutItem"] == 1
    assert meter.tally.errors[("dynamodb", "PutItem", "ConditionalCheckFailedException")] == 1


def test_reads_pay_by_four_kb_and_a_query_pays_for_what_its_filter_dropped(metered):
    meter, ddb = metered
    for sk in range(3):
        ddb.put_item(TableName=TABLE, Item={**_item("q", 3000), "SK": {"S": str(sk)}})
    meter.reset()
    ddb.get_item(TableName=TABLE, Key={"PK": {"S": "q"}, "SK": {"S": "0"}})
    ddb.get_item(TableName=TABLE, Key={"PK": {"S": "none"}, "SK": {"S": "0"}}, ConsistentRead=True)
    assert meter.tally.rcu["GetItem"] == 0.5 + 1
    # a query whose filter keeps nothing still read ~9 KB: 3 units of 4 KB, eventually consistent
    answer = ddb.query(TableName=TABLE, KeyConditionExpression="PK = :p", FilterExpression="#n = :no",
                       ExpressionAttributeNames={"#n": "pad"},
                       ExpressionAttributeValues={":p": {"S": "q"}, ":no": {"S": "nothing"}})
    assert answer["Items"] == []
    assert meter.tally.rcu["Query"] == 1.5
    assert meter.tally.total("dynamodb") == 3  # the meter's own re-read is not counted


def test_sqs_requests_are_counted_by_64_kb_chunk(metered):
    import boto3

    meter, _ = metered
    sqs = boto3.client("sqs", region_name="eu-west-1")
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    meter.reset()
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "b" * 20_000} for i in range(5)])
    assert meter.tally.requests[("app", "sqs", "SendMessageBatch")] == 1
    assert meter.tally.billed[("sqs", "SendMessageBatch")] == 2  # ~100 KB on the wire


def test_the_cost_bench_folds_keys_into_item_shapes_and_prices_provisioned_capacity():
    from bench import cost

    assert cost.item_kind("TICKET#0b5d0c41-6a43-4bb5-9a36-6f1f0b7f3a10") == "TICKET#<id>"
    assert cost.item_kind("DUE#2026-11-27T10:56#1", "GSI2") == "DUE#<time>#<n>"
    assert cost.item_kind("SEARCH#nordlight#arrived.3") == "SEARCH#nordlight#<token>.<n>"
    assert cost.item_kind("AGENT#ana") == "AGENT#<id>" and cost.item_kind("ana", "ByAssignee") == "<agent id>"
    write, read = cost.provisioned_unit_prices()
    assert abs(write * 1e6 - 0.00065 / (3600 * 0.7) * 1e6) < 1e-12 and read < write  # $/unit at 70% busy
