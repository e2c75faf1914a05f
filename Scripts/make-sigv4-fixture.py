#!/usr/bin/env python3
"""Signs a table of S3 requests with botocore (an independent implementation of
AWS Signature Version 4) and writes what it signed and the headers it added as
JSON: Tests/LedgerKitTests/ObjectStorage/Fixtures/sigv4.json. The Swift signer's
test compares its own headers with these, byte for byte.

Run again when the table changes: python3 Scripts/make-sigv4-fixture.py
(needs botocore: pip install awscli)."""
import datetime
import hashlib
import json
import os
from unittest import mock
from urllib.parse import quote

import botocore
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

MOMENT = datetime.datetime(2026, 11, 21, 2, 0, 0)


def key_path(key):
    """S3's object path: every byte but unreserved characters and '/' escaped."""
    return quote(key, safe='/~')


def query(pairs):
    return '&'.join(quote(k, safe='-_.~') + ('' if v is None else '=' + quote(v, safe='-_.~')) for k, v in pairs)


CASES = [
    dict(name='get object', method='GET', endpoint='http://127.0.0.1:9000', bucket='books', key='acme/acme-20261121T020000Z.db.gz'),
    dict(name='ranged get', method='GET', endpoint='https://s3.us-east-1.amazonaws.com', bucket='books', key='acme/a.db.gz',
         headers={'Range': 'bytes=0-65535'}, sign_payload=False),
    dict(name='put signed payload', method='PUT', endpoint='http://localhost:9000', bucket='books', key='acme/x.db.gz',
         headers={'Content-Type': 'application/gzip', 'If-None-Match': '*', 'x-amz-meta-kind': 'manual',
                  'x-amz-meta-created_at': '2026-11-21T02:00:00Z'}, body='hello, world\n'),
    dict(name='put unsigned payload', method='PUT', endpoint='https://s3.eu-central-1.amazonaws.com', region='eu-central-1',
         bucket='books', key='acme/y.db.gz', headers={'Content-Length': '13'}, body='hello, world\n', sign_payload=False),
    dict(name='post initiate multipart', method='POST', endpoint='http://127.0.0.1:9000', bucket='books', key='acme/big.db.gz',
         query=[('uploads', None)]),
    dict(name='post complete multipart', method='POST', endpoint='http://127.0.0.1:9000', bucket='books', key='acme/big.db.gz',
         query=[('uploadId', 'VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA')],
         body='<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"a"</ETag></Part></CompleteMultipartUpload>'),
    dict(name='list with continuation', method='GET', endpoint='https://books.s3.amazonaws.com', bucket=None, key='',
         query=[('list-type', '2'), ('prefix', 'acme/2026 backups+'), ('continuation-token', '1/a=b+c&d'), ('max-keys', '1000')]),
    dict(name='unicode key', method='GET', endpoint='http://127.0.0.1:9000', bucket='books', key='Café Books/crème brûlée 東京.db.gz'),
    dict(name='key needing escapes', method='DELETE', endpoint='http://127.0.0.1:9000', bucket='books',
         key="acme/a b+c=d&e'(f)*!$@,;:~x.db.gz"),
    dict(name='session token', method='GET', endpoint='https://s3.us-west-2.amazonaws.com', region='us-west-2', bucket='books',
         key='acme/z.db.gz', token='FwoGZXIvYXdzEJr//////////wEaDOfake+token/with=chars'),
    dict(name='header whitespace', method='PUT', endpoint='http://127.0.0.1:9000', bucket='books', key='acme/w',
         headers={'x-amz-meta-company': '  Acme   Plumbing  ', 'X-Amz-Meta-Kind': 'pre-rebuild'}, body=''),
    dict(name='upload part with checksum', method='PUT', endpoint='http://127.0.0.1:9000', bucket='books', key='acme/big.db.gz',
         query=[('partNumber', '2'), ('uploadId', 'abc')],
         headers={'x-amz-checksum-sha256': 'X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE='}, body='part two'),
]


def main():
    credentials = {'access_key': 'AKIDEXAMPLE', 'secret_key': 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'}
    out = []
    with mock.patch('botocore.auth.get_current_datetime', return_value=MOMENT):
        for case in CASES:
            region = case.get('region', 'us-east-1')
            path = '/' + (case['bucket'] + '/' if case['bucket'] else '') + key_path(case['key'])
            url = case['endpoint'] + path
            if case.get('query'):
                url += '?' + query(case['query'])
            body = case.get('body', '').encode('utf-8')
            request = AWSRequest(method=case['method'], url=url, headers=dict(case.get('headers', {})), data=body)
            sign = case.get('sign_payload', True)
            request.context['client_config'] = botocore.config.Config(s3={'payload_signing_enabled': sign})
            request.context['payload_signing_enabled'] = sign
            auth = S3SigV4Auth(Credentials(token=case.get('token'), **credentials), 's3', region)
            auth.add_auth(request)
            out.append({
                'name': case['name'], 'method': case['method'], 'url': url, 'region': region,
                'headers': case.get('headers', {}), 'body': case.get('body', ''), 'sign_payload': sign,
                'session_token': case.get('token'),
                'signed': {k: v for k, v in request.headers.items()
                           if k.lower() in ('authorization', 'x-amz-date', 'x-amz-content-sha256', 'x-amz-security-token')},
            })
    document = {
        'source': 'botocore %s, botocore.auth.S3SigV4Auth (Apache License 2.0); made by Scripts/make-sigv4-fixture.py' % botocore.__version__,
        'access_key': credentials['access_key'], 'secret_key': credentials['secret_key'],
        'moment': MOMENT.strftime('%Y%m%dT%H%M%SZ'), 'requests': out,
    }
    target = os.path.join(os.path.dirname(__file__), '..', 'Tests', 'LedgerKitTests', 'ObjectStorage', 'Fixtures', 'sigv4.json')
    with open(target, 'w', encoding='utf-8') as handle:
        json.dump(document, handle, indent=1, ensure_ascii=False)
        handle.write('\n')
    print('wrote %d signed requests to %s' % (len(out), os.path.normpath(target)))


if __name__ == '__main__':
    main()
