/** The credentials the server accepts by default, and the account that owns what it creates. */
export const EC2_TEST_KEY_ID = 'AKIDSKYGRAPHEC2TEST';
export const EC2_TEST_SECRET = 'ec2-test-secret/9f8e7d6c5b4a39281706';

export const EC2_OWNER_ID = '210987654321';
