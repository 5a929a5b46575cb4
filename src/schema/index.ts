/** Imports every type for its side effect of registering with the builder, then builds. */
import { builder } from '../builder.ts';
import './scalars.ts';
import './enums.ts';
import './failure.ts';
import './resource.ts';
import './account.ts';
import './image.ts';
import './size.ts';
import './location.ts';
import './node.ts';
import './key-pair.ts';
import './volume-snapshot.ts';
import './volume.ts';
import './object.ts';
import './container.ts';
import './member.ts';
import './load-balancer.ts';
import './dns.ts';
import './subscriptions.ts';
import './deployment.ts';
import './viewer.ts';

export const schema = builder.toSchema({ sortSchema: true });
