import { describeDevSetShard } from "./dev-set.js";

describeDevSetShard(1);
