/**
 * `defineMutation`: the one shape every mutation has (docs/architecture.md, "Mutations"): one
 * required `input: <Name>Input!` argument and a `<Name>Payload!` result.
 */
import type { FieldMap, InputFieldMap, InputShapeFromFields } from '@pothos/core';
import type { GraphQLResolveInfo } from 'graphql';
import { builder, type Types } from '../builder.ts';
import type { Context } from '../context.ts';

export interface MutationOptions<Fields extends InputFieldMap, P extends object> {
  description: string;
  input: (t: PothosSchemaTypes.InputFieldBuilder<Types, 'InputObject'>) => Fields;
  payload: (t: PothosSchemaTypes.ObjectFieldBuilder<Types, P>) => FieldMap;
  resolve: (input: InputShapeFromFields<Fields>, ctx: Context, info: GraphQLResolveInfo) => Promise<P> | P;
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export function defineMutation<Fields extends InputFieldMap, P extends object>(name: string, opts: MutationOptions<Fields, P>) {
  const Input = builder.inputType(`${capitalize(name)}Input`, { fields: opts.input });
  const Payload = builder.objectRef<P>(`${capitalize(name)}Payload`).implement({ fields: opts.payload });
  builder.mutationField(name, (t) =>
    t.field({
      type: Payload,
      description: opts.description,
      args: { input: t.arg({ type: Input, required: true }) },
      // why: Pothos cannot follow a generic input type through t.arg; the shape is the one defined above
      resolve: (_root, args, ctx, info) => opts.resolve((args as unknown as { input: InputShapeFromFields<Fields> }).input, ctx, info) as never,
    }),
  );
  return { Input, Payload };
}

/** The payload of a deleting mutation. */
export interface Deleted {
  deletedId: string;
}

export const deletedPayload = (t: PothosSchemaTypes.ObjectFieldBuilder<Types, Deleted>) => ({
  deletedId: t.id({ description: 'The global id of what was deleted.', resolve: (p) => p.deletedId }),
});
