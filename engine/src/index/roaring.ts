// roaring is CommonJS; Node's ESM loader cannot see its named exports, so take them off the default.
import roaring from 'roaring';

export const RoaringBitmap32 = roaring.RoaringBitmap32;
export type RoaringBitmap32 = InstanceType<typeof roaring.RoaringBitmap32>;
